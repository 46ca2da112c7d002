import { expect } from 'chai';
import { AgentStore } from '../../src/store/agent-store.js';
import { openDatabase } from '../../src/store/database.js';
import { openTempDatabase, type TempDatabase } from '../helpers/temp-database.js';

describe('AgentStore', () => {
  let temp: TempDatabase;
  beforeEach(async () => {
    temp = await openTempDatabase();
  });
  afterEach(() => temp.dispose());

  it('remembers agents, newest sighting wins, and survives a re-open', () => {
    const agents = new AgentStore(temp.db);
    expect(agents.known()).to.deep.equal([]);
    agents.remember('a@x/1', new Date('2024-01-01T00:00:05.000Z'));
    agents.remember('b@x/1', new Date('2024-01-01T00:00:01.000Z'));
    agents.remember('b@x/1', new Date('2024-01-01T00:00:09.000Z'));
    agents.remember('a@x/1', new Date('2024-01-01T00:00:02.000Z'));
    const expected = [
      { jid: 'b@x/1', lastSeen: '2024-01-01T00:00:09.000Z' },
      { jid: 'a@x/1', lastSeen: '2024-01-01T00:00:05.000Z' },
    ];
    expect(agents.known()).to.deep.equal(expected);
    temp.db.close();
    const reopened = openDatabase(temp.file);
    try {
      expect(new AgentStore(reopened).known()).to.deep.equal(expected);
    } finally {
      reopened.close();
    }
  });
});
