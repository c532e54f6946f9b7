// One resolver per customer, built from configuration records (tenants.json): the customer's own
// store, prefix and credentials, and its own cache and audit log — nothing shared between tenants.

import { AuditLog, createResolver } from 'envmux';
import { aws, gcp, vault } from 'envmux/providers';

/** The store a record names; `connection` holds what a deployment keeps outside the record
 *  (endpoints and credentials of that tenant). */
function storeFor(record, connection) {
  switch (record.store) {
    case 'aws':
      return aws({
        id: `aws-${record.tenant}`,
        region: record.region,
        prefix: record.prefix,
        ...connection,
      });
    case 'gcp':
      return gcp({ id: `gcp-${record.tenant}`, projectId: record.projectId, ...connection });
    case 'vault':
      return vault({
        id: `vault-${record.tenant}`,
        mount: record.mount,
        prefix: record.prefix,
        kvVersion: 2,
        ...connection,
      });
    default:
      throw new Error(`tenant ${record.tenant}: unknown store ${record.store}`);
  }
}

/** A resolver for one tenant, with its own audit log (and, as every resolver, its own cache). */
export function resolverFor(record, connection) {
  return createResolver({
    providers: [storeFor(record, connection)],
    audit: { log: new AuditLog() },
  });
}
