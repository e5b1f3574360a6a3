import { runCommand } from './run';

describe('runCommand', () => {
  it('survives commands that exit before reading their stdin', async () => {
    // Writing stdin to a command that has already exited fails with EPIPE on the pipe; that
    // must not become an uncaught error. One run in a few hits the race, so run many.
    const codes: number[] = [];
    for (let i = 0; i < 100; i++) codes.push((await runCommand(['true'])).code);
    expect(codes.every((c) => c === 0)).toBe(true);
  });

  it('passes stdin to a command that reads it', async () => {
    const r = await runCommand(['cat'], { stdin: 'hello' });
    expect(r).toEqual({ code: 0, stdout: 'hello', stderr: '' });
  });
});
