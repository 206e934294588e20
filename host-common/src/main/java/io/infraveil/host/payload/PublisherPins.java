package io.infraveil.host.payload;

import io.infraveil.host.fs.AtomicFiles;
import io.infraveil.payload.trust.PublisherKeys;
import io.infraveil.payload.trust.PublisherSignatures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Adds publisher public keys to the host's pinned keys ({@code DATA/identity/publishers.pem}),
 * which {@link PublisherTrust} reads. Keys are only ever added: unpinning is a deliberate edit
 * of the file, never a side effect of a missing flag.
 */
public final class PublisherPins {

  /** What one call changed: key ids newly pinned and key ids that were pinned already. */
  public record Result(List<String> added, List<String> alreadyPinned) {
    public Result {
      added = List.copyOf(added);
      alreadyPinned = List.copyOf(alreadyPinned);
    }
  }

  private PublisherPins() {}

  /**
   * Pins every key of every file ("PUBLIC KEY" PEM, as {@code infraveil keys create-publisher}
   * writes it). A file that cannot be read, or holds no Ed25519 public key, changes nothing.
   */
  public static Result pin(CacheLayout layout, List<Path> publicKeyFiles) throws IOException {
    Objects.requireNonNull(layout, "layout");
    Objects.requireNonNull(publicKeyFiles, "publicKeyFiles");
    Path pinnedFile = layout.publishersFile();
    String current = Files.exists(pinnedFile)
        ? Files.readString(pinnedFile, StandardCharsets.US_ASCII) : "";
    Set<String> pinnedIds = new LinkedHashSet<>();
    if (!current.isBlank()) {
      try {
        for (PublicKey key : PublisherKeys.allFromPem(current)) {
          pinnedIds.add(PublisherSignatures.keyId(key));
        }
      } catch (IllegalArgumentException e) {
        throw new IOException("cannot read pinned publisher keys from " + pinnedFile + ": "
            + e.getMessage() + "; fix or remove that file", e);
      }
    }
    List<String> added = new ArrayList<>();
    List<String> already = new ArrayList<>();
    StringBuilder next = new StringBuilder(current);
    if (!current.isEmpty() && !current.endsWith("\n")) {
      next.append('\n');
    }
    for (Path file : publicKeyFiles) {
      for (PublicKey key : read(file)) {
        String id = PublisherSignatures.keyId(key);
        if (!pinnedIds.add(id)) {
          already.add(id);
          continue;
        }
        added.add(id);
        next.append("# key id ").append(id).append(", pinned from ")
            .append(file.getFileName()).append('\n')
            .append(PublisherKeys.toPem(key));
      }
    }
    if (!added.isEmpty()) {
      Files.createDirectories(pinnedFile.getParent());
      AtomicFiles.write(pinnedFile, next.toString().getBytes(StandardCharsets.US_ASCII),
          PosixFilePermissions.fromString("rw-r--r--"));
    }
    return new Result(added, already);
  }

  private static List<PublicKey> read(Path file) throws IOException {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new IOException("publisher key file " + file + " does not exist; copy the NAME.pub "
          + "made by `infraveil keys create-publisher` to this host", e);
    }
    try {
      return PublisherKeys.allFromPem(pem);
    } catch (IllegalArgumentException e) {
      throw new IOException("publisher key file " + file + " is not usable: " + e.getMessage(), e);
    }
  }
}
