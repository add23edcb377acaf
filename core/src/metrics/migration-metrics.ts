import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Fleet migration metrics, registered on a given registry (the server's, served at /metrics;
 * the CLI's own when `joinery migrate apply` runs a migration). Labels: migration ids (few,
 * operator-made), states, vendors, operations; never a DevEUI.
 */
export class MigrationMetrics {
  /** Devices of each migration this process runs, by journal state. */
  readonly devices: Gauge<'migration' | 'state'>;
  /** Adapter calls a migration made, by vendor, operation and result (ok, rate-limited, retry, failed). */
  readonly adapterCalls: Counter<'vendor' | 'operation' | 'result'>;

  constructor(registry: Registry) {
    this.devices = new Gauge({
      name: 'joinery_migration_devices',
      help: 'Devices of a fleet migration run by this process, by migration and journal state',
      labelNames: ['migration', 'state'] as const,
      registers: [registry],
    });
    this.adapterCalls = new Counter({
      name: 'joinery_migration_adapter_calls_total',
      help: 'Network server API calls made by fleet migrations, by vendor, operation and result (ok, rate-limited, retry, failed)',
      labelNames: ['vendor', 'operation', 'result'] as const,
      registers: [registry],
    });
  }
}
