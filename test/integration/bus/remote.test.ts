import { dispatch, query, spawn, start, stop, type Ref } from 'nact';
import { connectBus, type Bus } from '../../../bus/connection';
import { remoteDispatch, remoteQuery, remoteRef, serveActor } from '../../../bus/remote';
import { actorSubject } from '../../../messages/subjects';
import { ErrorCodes, MkError, TimeoutError, UnavailableError, ValidationError } from '../../../messages/errors';
import { caught, startNatsServer, waitFor, type NatsServer } from '../../helpers/nats-server';

type CalcMsg =
  | { type: 'add'; a: number; b: number; sender: Ref<number> }
  | { type: 'note'; text: string }
  | { type: 'notes'; sender: Ref<string[]> }
  | { type: 'invalid'; sender: Ref<Error> }
  | { type: 'silent'; sender: Ref<never> };

type ClientMsg = { type: 'ask'; a: number; b: number; sender: Ref<number> };

describe('remote actor refs', () => {
  let server: NatsServer;
  let busA: Bus;
  let busB: Bus;
  const subject = actorSubject('proc-a', 'root/calc');

  beforeAll(async () => {
    server = await startNatsServer();
    busA = await connectBus({ servers: server.url, name: 'proc-a' });
    busB = await connectBus({ servers: server.url, name: 'proc-b' });
  });
  afterAll(async () => {
    await busB?.close();
    await busA?.close();
    await server?.stop();
  });

  it('dispatches and queries between two nact systems', async () => {
    const systemA = start();
    const systemB = start();
    const calc = spawn(systemA, (notes: string[] = [], msg: CalcMsg) => {
      switch (msg.type) {
        case 'add': dispatch(msg.sender, msg.a + msg.b); return notes;
        case 'note': return [...notes, msg.text];
        case 'notes': dispatch(msg.sender, notes); return notes;
        case 'invalid': dispatch(msg.sender, new ValidationError('no such operation', ['type: invalid'])); return notes;
        default: return notes; // 'silent' never answers
      }
    }, 'calc') as Ref<CalcMsg>;
    const served = serveActor(busA, subject, calc, { queryTimeoutMs: 5000 });
    await served.ready;
    const ref = remoteRef<CalcMsg>(subject);
    // An actor in system B that asks the remote one: refs look alike to it.
    const client = spawn(systemB, async (_: unknown, msg: ClientMsg) => {
      dispatch(msg.sender, await remoteQuery<CalcMsg, number>(busB, ref, { type: 'add', a: msg.a, b: msg.b }, 2000));
    }, 'client') as Ref<ClientMsg>;
    try {
      remoteDispatch(busB, ref, { type: 'note', text: 'hello' });
      await waitFor(async () => (await query(calc, (sender: Ref<string[]>) => ({ type: 'notes', sender }) as CalcMsg, 1000) as string[]).length === 1, 'the note');
      expect(await remoteQuery<CalcMsg, string[]>(busB, ref, { type: 'notes' }, 2000)).toEqual(['hello']);
      expect(await query(client, (sender: Ref<number>) => ({ type: 'ask', a: 2, b: 3, sender }), 3000)).toBe(5);

      const invalid = await caught(remoteQuery(busB, ref, { type: 'invalid' }, 2000));
      expect(invalid).toBeInstanceOf(ValidationError);
      expect((invalid as ValidationError).issues).toEqual(['type: invalid']);

      const slow = await caught(remoteQuery(busB, ref, { type: 'silent' }, 300));
      expect(slow).toBeInstanceOf(TimeoutError);

      const bad = await busB.nc.request(subject, new TextEncoder().encode('[1,2]'), { timeout: 2000 });
      expect(JSON.parse(new TextDecoder().decode(bad.data)).error.code).toBe(ErrorCodes.BadRequest);
    } finally {
      await served.stop();
      stop(systemA);
      stop(systemB);
    }
  });

  it('answers Unavailable for a stopped actor and when nothing serves the subject', async () => {
    const system = start();
    const gone = spawn(system, (s: unknown) => s, 'gone') as Ref<CalcMsg>;
    const served = serveActor(busA, `${subject}-gone`, gone);
    await served.ready;
    try {
      stop(gone);
      const err = await caught(remoteQuery(busB, remoteRef<CalcMsg>(`${subject}-gone`), { type: 'notes' }, 2000));
      expect(err).toBeInstanceOf(UnavailableError);
    } finally {
      await served.stop();
      stop(system);
    }
    const none = await caught(remoteQuery(busB, remoteRef<CalcMsg>('mk.actor.nobody.x'), { type: 'notes' }, 1000));
    expect(none).toBeInstanceOf(UnavailableError);
    expect((none as MkError).message).toBe('nothing is serving mk.actor.nobody.x: is the process that owns this actor running?');
  });
});
