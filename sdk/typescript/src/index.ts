/**
 * Infraveil's TypeScript SDK: the infraveil.v1 messages and services generated from proto/
 * (protobuf-es), and clients that call the control plane over gRPC with mutual TLS
 * (@connectrpc/connect-node). The CA and an operator certificate come from
 * `infraveil certs issue --operator NAME`.
 */
import { readFileSync } from "node:fs";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DashboardSignInService } from "./gen/infraveil/v1/dashboard_pb.js";
import { OperatorService } from "./gen/infraveil/v1/operator_pb.js";
import { SecretAdminService } from "./gen/infraveil/v1/secrets_pb.js";

export * from "./gen/infraveil/v1/common_pb.js";
export * from "./gen/infraveil/v1/operator_pb.js";
export * from "./gen/infraveil/v1/secrets_pb.js";
export * from "./gen/infraveil/v1/dashboard_pb.js";

/** Where the control plane is and who this client is. */
export interface MutualTls {
  /** host:port of the control plane's gRPC port, e.g. "localhost:7443". */
  endpoint: string;
  /** The installation's CA certificate (PEM). */
  ca: string | Buffer;
  /** This operator's certificate (PEM). */
  cert: string | Buffer;
  /** Its private key (PEM, PKCS#8). */
  key: string | Buffer;
}

/** The same, with PEM files named by path (as in a ctl context file). */
export function mutualTlsFromFiles(endpoint: string, ca: string, cert: string, key: string): MutualTls {
  return { endpoint, ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) };
}

/** A gRPC (HTTP/2) transport that presents the client certificate and trusts only the CA. */
export function mutualTlsTransport(tls: MutualTls): Transport {
  return createGrpcTransport({
    baseUrl: `https://${tls.endpoint}`,
    nodeOptions: { ca: tls.ca, cert: tls.cert, key: tls.key },
  });
}

/** Everything an operator does: hosts, deployments, status, incidents, logs, Watch. */
export function operatorClient(transport: Transport): Client<typeof OperatorService> {
  return createClient(OperatorService, transport);
}

/** Secrets administration: values go in and never come out. */
export function secretAdminClient(transport: Transport): Client<typeof SecretAdminService> {
  return createClient(SecretAdminService, transport);
}

/** One-time dashboard sign-in links and their sessions. */
export function dashboardSignInClient(transport: Transport): Client<typeof DashboardSignInService> {
  return createClient(DashboardSignInService, transport);
}
