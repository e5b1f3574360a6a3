import { Flags } from '@oclif/core';
import { metricsFlags, metricsOption, MkCommand } from '../base-command';
import { runGatewayService } from '../../embedded/services';

/**
 * `mk gateway`: runs the function gateway in this process until SIGTERM/SIGINT: functions are
 * called on `POST http://<address>:<port>/function/<namespace>/<name>` and over NATS on
 * `mk.fn.invoke.<namespace>.<name>`. It connects as the `gateway` identity when `mk up` made it,
 * else with the context's credentials. Any number may run against one cluster (they share the
 * NATS calls in a queue group). `mk up` starts one.
 */
export default class Gateway extends MkCommand {
  static override summary = 'Run the function gateway in the foreground (mk up starts it for you)';
  static override hidden = true;
  static override flags = {
    port: Flags.integer({ min: 0, max: 65535, env: 'MK_GATEWAY_PORT', description: 'HTTP port (default: the one mk up kept, else 8081; 0 picks a free one)' }),
    address: Flags.string({ description: 'HTTP address to listen on (default 127.0.0.1)' }),
    ...metricsFlags,
  };

  /** Serves until a signal; exit 0 after a clean stop. */
  async run(): Promise<void> {
    const { flags } = await this.parse(Gateway);
    this.exit(await runGatewayService(this.dataDir(flags['data-dir']), (l) => this.err(`gateway: ${l}`), {
      ...(flags.port !== undefined ? { port: flags.port } : {}),
      ...(flags.address ? { host: flags.address } : {}),
      ...metricsOption(flags),
    }));
  }
}
