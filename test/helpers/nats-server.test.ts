import { startNatsServer } from './nats-server';

describe('startNatsServer', () => {
  it('refuses a port another nats-server already serves instead of passing that server off as its own', async () => {
    const first = await startNatsServer();
    try {
      await expect(startNatsServer({ port: first.port })).rejects.toThrow(`port ${first.port} is served by another nats-server`);
      // The first one is untouched.
      await first.restart();
    } finally {
      await first.stop();
    }
  });
});
