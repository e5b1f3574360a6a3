/** On a bus with users, `mk gateway` connects only as the gateway identity: without that credential it refuses to start and says which one is missing. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runGatewayService } from '../../../embedded/services';

describe('runGatewayService', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gw-cred-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses to start when credentials.json has no gateway user', async () => {
    fs.writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ port: 4222, nodeName: 'n1', users: { admin: 'x'.repeat(16), 'control-plane': 'y'.repeat(16) } }));
    await expect(runGatewayService(dir, () => undefined, { port: 0 })).rejects.toThrow(/"gateway" credential is missing/);
  });
});
