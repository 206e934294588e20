/**
 * "Check before running" on a host, shared by the launcher and the agent: fetch a payload's
 * ciphertext from the control plane, verify it (header, host MAC, optional publisher
 * signatures, key unwrap, every record, SHA-256), keep it encrypted in the cache, and extract
 * a verified release.
 *
 * <pre>
 * DATA/cache/
 *   &lt;sha256&gt;/                      complete AND verified, appears only by one rename
 *     payload.enc                   ciphertext exactly as served
 *     header.pb                     FetchHeader of the fetch that filled it
 *     header-&lt;deployment&gt;-&lt;seq&gt;.pb  headers for other deployments/sequences of the same bytes
 *   .partial/
 *     &lt;sha256&gt;.enc.part             resumable download; its length is the next offset
 *     &lt;sha256&gt;.header.pb            header of that download
 *     &lt;sha256&gt;.tmpdir/              entry being assembled (never trusted after a crash)
 *     &lt;sha256&gt;.lock                 cross-process lock (in-JVM callers also share a lock)
 *   sequences.json                  highest accepted sequence per deployment (when pinned)
 * DATA/identity/publishers.pem      pinned publisher keys; when present signatures are required
 * </pre>
 */
package io.infraveil.host.payload;
