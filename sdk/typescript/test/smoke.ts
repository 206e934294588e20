/**
 * Run by the Java test TypeScriptSdkTest against a real control plane: ListHosts, a Watch
 * stream that sees the deployment this script puts, and PutDeployment. Prints one JSON line
 * with what it got; exits 1 with the error otherwise.
 *
 * Environment: INFRAVEIL_ENDPOINT, INFRAVEIL_CA, INFRAVEIL_CERT, INFRAVEIL_KEY (paths),
 * SMOKE_DEPLOYMENT (name to put), SMOKE_PAYLOAD_SHA256 (an uploaded payload), SMOKE_HOST.
 */
import { mutualTlsFromFiles, mutualTlsTransport, operatorClient } from "../src/index.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

async function main(): Promise<void> {
  const transport = mutualTlsTransport(mutualTlsFromFiles(required("INFRAVEIL_ENDPOINT"), required("INFRAVEIL_CA"),
      required("INFRAVEIL_CERT"), required("INFRAVEIL_KEY")));
  const operator = operatorClient(transport);
  const deployment = required("SMOKE_DEPLOYMENT");

  const hosts = await operator.listHosts({});

  const stop = new AbortController();
  const watched = (async () => {
    for await (const event of operator.watch({ deployment }, { signal: stop.signal })) {
      if (event.deployment === deployment) {
        return { deployment: event.deployment, text: event.text };
      }
    }
    throw new Error("the Watch stream ended before any event about " + deployment);
  })();
  // The subscription is made when the call reaches the server: give it a moment, and put
  // once more (to another host list, a change) if the first announcement came too early.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const put = await operator.putDeployment({
    name: deployment, payloadSha256: required("SMOKE_PAYLOAD_SHA256"), hosts: [required("SMOKE_HOST")] });
  const timeout = (ms: number) => new Promise<null>((resolve) => setTimeout(() => resolve(null), ms));
  let event = await Promise.race([watched, timeout(10_000)]);
  if (event === null) {
    await operator.putDeployment({ name: deployment, payloadSha256: required("SMOKE_PAYLOAD_SHA256"),
      hosts: [required("SMOKE_HOST"), "smoke-extra"] });
    event = await Promise.race([watched, timeout(20_000)]);
  }
  stop.abort();
  if (event === null) {
    throw new Error("no Watch event about " + deployment + " within 30 s");
  }
  console.log(JSON.stringify({
    hosts: hosts.hosts.map((h) => h.name),
    deployment: put.deployment?.name,
    payloadSha256: put.deployment?.payload?.sha256,
    placedHosts: put.deployment?.hosts,
    watched: event,
  }));
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error("smoke failed:", error);
  process.exit(1);
});
