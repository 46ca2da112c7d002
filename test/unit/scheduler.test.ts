import { expect } from 'chai';
import fc from 'fast-check';
import { REST_MS, Scheduler, type AgentSnapshot } from '../../src/scheduler/scheduler.js';
import { pickAgent } from '../../src/scheduler/pick-agent.js';

const agent = (jid: string, slots: number, offers: Record<string, number>, extra: Partial<AgentSnapshot> = {}): AgentSnapshot => ({
  jid,
  slots,
  load1: 0,
  cores: 2,
  draining: false,
  offers: new Map(Object.entries(offers)),
  ...extra,
});

describe('Scheduler', function () {
  it('spreads jobs over the least loaded agents: 12 jobs on 3 agents × 2 slots run 2/2/2', function () {
    const s = new Scheduler();
    const agents = ['a', 'b', 'c'].map((jid) => agent(jid, 2, { p: 2 }));
    for (let i = 0; i < 12; i++) s.enqueue({ id: `j${i}`, owner: 'u', processId: 'p' });
    const placed = s.place(agents, 0);
    expect(placed.map((p) => p.agent)).to.deep.equal(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(s.waiting('u')).to.equal(6);
    s.release('j0');
    expect(s.place(agents, 0)).to.deep.equal([{ jobId: 'j6', agent: 'a' }]);
  });

  it('breaks ties by load average per core, then by JID', function () {
    expect(pickAgent([
      { jid: 'b', slots: 2, running: 0, runningOfProcess: 0, maxParallel: 2, load1: 0.5, cores: 2, draining: false },
      { jid: 'a', slots: 4, running: 0, runningOfProcess: 0, maxParallel: 2, load1: 1.5, cores: 2, draining: false },
      { jid: 'c', slots: 2, running: 0, runningOfProcess: 0, maxParallel: 2, load1: 0.5, cores: 2, draining: false },
    ])).to.equal('b');
  });

  it('leaves out draining agents, agents without the process, and full max_parallel', function () {
    const s = new Scheduler();
    s.enqueue({ id: 'j1', owner: 'u', processId: 'p' });
    s.enqueue({ id: 'j2', owner: 'u', processId: 'p' });
    const agents = [agent('drained', 4, { p: 4 }, { draining: true }), agent('other', 4, { q: 4 }), agent('narrow', 4, { p: 1 })];
    expect(s.place(agents, 0)).to.deep.equal([{ jobId: 'j1', agent: 'narrow' }]);
    expect(s.isQueued('j2')).to.equal(true);
  });

  it('rests an agent that refused a job, then places on it again', function () {
    const s = new Scheduler();
    const agents = [agent('a', 1, { p: 1 })];
    s.enqueue({ id: 'j1', owner: 'u', processId: 'p' });
    expect(s.place(agents, 0)).to.have.length(1);
    s.requeue('j1', 1000, 'a');
    expect(s.isQueued('j1')).to.equal(true);
    expect(s.place(agents, 1000 + REST_MS - 1)).to.deep.equal([]);
    expect(s.place(agents, 1000 + REST_MS)).to.deep.equal([{ jobId: 'j1', agent: 'a' }]);
  });

  it('lets an agent that keeps jobs waiting hold them only behind short runs', function () {
    const queueing = (jid: string) => agent(jid, 2, { short: 2, long: 2 }, { queueShare: 2 });
    let next = 0;
    const fresh = () => new Scheduler(undefined, (processId) => processId === 'long');
    const enqueue = (s: Scheduler, processId: string, count: number) => {
      for (let i = 0; i < count; i++) s.enqueue({ id: `j${next++}`, owner: 'u', processId });
    };
    const onEach = (placements: { agent: string }[]) => placements.reduce<Record<string, number>>((n, p) => ({ ...n, [p.agent]: (n[p.agent] ?? 0) + 1 }), {});

    const short = fresh();
    enqueue(short, 'short', 6);
    expect(short.place([queueing('a')], 0), 'short runs: one job waits per slot').to.have.length(4);

    const long = fresh();
    enqueue(long, 'long', 3);
    expect(long.place([queueing('a')], 0), 'long runs: no job waits').to.have.length(2);

    const mixed = fresh();
    enqueue(mixed, 'long', 1);
    expect(mixed.place([queueing('a')], 0)).to.deep.equal([{ jobId: `j${next - 1}`, agent: 'a' }]);
    const longJob = `j${next - 1}`;
    enqueue(mixed, 'short', 6);
    // 'a' runs a long job: its free slot takes a short job, but nothing waits behind the long run.
    expect(onEach(mixed.place([queueing('a'), queueing('b')], 0))).to.deep.equal({ a: 1, b: 4 });
    mixed.release(longJob);
    expect(onEach(mixed.place([queueing('a'), queueing('b')], 0)), 'once the long run ends').to.deep.equal({ a: 1 });
    expect(mixed.runningOn('a')).to.equal(2);
  });

  it('holds an owner at its running limit while others are served', function () {
    const s = new Scheduler((owner) => (owner === 'greedy' ? 1 : Infinity));
    for (let i = 0; i < 3; i++) s.enqueue({ id: `g${i}`, owner: 'greedy', processId: 'p' });
    s.enqueue({ id: 'm0', owner: 'modest', processId: 'p' });
    const placed = s.place([agent('a', 8, { p: 8 })], 0);
    expect(placed.map((p) => p.jobId)).to.deep.equal(['g0', 'm0']);
    expect(s.running('greedy')).to.equal(1);
    expect(s.waiting('greedy')).to.equal(2);
  });

  it('serves one owner\'s single job before another owner\'s thousand queued jobs', function () {
    const s = new Scheduler();
    const agents = [agent('a', 1, { p: 1 })];
    for (let i = 0; i < 1000; i++) s.enqueue({ id: `many${i}`, owner: 'many', processId: 'p' });
    expect(s.place(agents, 0)).to.deep.equal([{ jobId: 'many0', agent: 'a' }]);
    s.enqueue({ id: 'one', owner: 'one', processId: 'p' });
    s.release('many0');
    expect(s.place(agents, 0)).to.deep.equal([{ jobId: 'one', agent: 'a' }]);
  });

  it('does not let a job whose process has no room block the owner\'s other jobs', function () {
    const s = new Scheduler();
    s.enqueue({ id: 'blocked', owner: 'u', processId: 'nowhere' });
    s.enqueue({ id: 'free', owner: 'u', processId: 'p' });
    expect(s.place([agent('a', 1, { p: 1 })], 0)).to.deep.equal([{ jobId: 'free', agent: 'a' }]);
    expect(s.isQueued('blocked')).to.equal(true);
  });

  describe('invariants (property-based)', function () {
    const processes = ['p0', 'p1', 'p2'];
    const agentsArb = fc.uniqueArray(
      fc.record({
        jid: fc.constantFrom('a1', 'a2', 'a3', 'a4'),
        slots: fc.integer({ min: 1, max: 4 }),
        offers: fc.subarray(processes, { minLength: 1 }).chain((ids) => fc.tuple(...ids.map((id) => fc.tuple(fc.constant(id), fc.integer({ min: 1, max: 4 }))))),
        load1: fc.double({ min: 0, max: 4, noNaN: true }),
      }),
      { minLength: 1, maxLength: 4, selector: (a) => a.jid },
    ).map((list) => list.map((a) => agent(a.jid, a.slots, Object.fromEntries(a.offers.map(([id, max]) => [id, Math.min(max, a.slots)])), { load1: a.load1 })));
    const commandArb = fc.oneof(
      fc.record({ kind: fc.constant('submit' as const), owner: fc.constantFrom('u1', 'u2', 'u3'), processId: fc.constantFrom(...processes) }),
      fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('refuse' as const), pick: fc.nat() }),
    );

    function checkCapacity(s: Scheduler, agents: AgentSnapshot[], assigned: Map<string, { agent: string; processId: string }>): void {
      for (const a of agents) {
        const mine = [...assigned.values()].filter((x) => x.agent === a.jid);
        expect(mine.length).to.be.at.most(a.slots);
        expect(s.runningOn(a.jid)).to.equal(mine.length);
        for (const [processId, max] of a.offers) expect(mine.filter((x) => x.processId === processId).length).to.be.at.most(max);
        for (const x of mine) expect(a.offers.has(x.processId)).to.equal(true);
      }
    }

    it('never exceeds slots or max_parallel, and dispatches every placeable job once capacity frees', function () {
      fc.assert(
        fc.property(agentsArb, fc.array(commandArb, { maxLength: 80 }), (agents, commands) => {
          const s = new Scheduler();
          const assigned = new Map<string, { agent: string; processId: string }>();
          const jobs = new Map<string, string>();
          let now = 0;
          const place = () => {
            for (const p of s.place(agents, now)) {
              expect(assigned.has(p.jobId)).to.equal(false);
              assigned.set(p.jobId, { agent: p.agent, processId: jobs.get(p.jobId)! });
            }
            checkCapacity(s, agents, assigned);
          };
          commands.forEach((command, i) => {
            now += 100;
            if (command.kind === 'submit') {
              jobs.set(`j${i}`, command.processId);
              s.enqueue({ id: `j${i}`, owner: command.owner, processId: command.processId });
            } else {
              const ids = [...assigned.keys()];
              const id = ids[command.pick % Math.max(ids.length, 1)];
              if (id === undefined) return;
              if (command.kind === 'finish') s.release(id);
              else s.requeue(id, now, assigned.get(id)!.agent);
              assigned.delete(id);
            }
            place();
          });
          // Liveness: finishing everything that runs, again and again, empties the queue of placeable jobs.
          for (let round = 0; round < jobs.size + 2; round++) {
            now += REST_MS;
            for (const id of [...assigned.keys()]) {
              s.release(id);
              assigned.delete(id);
            }
            place();
          }
          const offered = new Set(agents.flatMap((a) => [...a.offers.keys()]));
          for (const [id, processId] of jobs) {
            if (offered.has(processId)) expect(s.isQueued(id), `${id} still queued`).to.equal(false);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('is fair: a job waits for at most one job of each other owner with work for the same slot', function () {
      fc.assert(
        fc.property(fc.array(fc.constantFrom('u1', 'u2', 'u3'), { minLength: 1, maxLength: 60 }), (owners) => {
          const s = new Scheduler();
          const single = [agent('a', 1, { p: 1 })];
          owners.forEach((owner, i) => s.enqueue({ id: `${owner}-${i}`, owner, processId: 'p' }));
          const order: string[] = [];
          for (let i = 0; i < owners.length; i++) {
            const [placed] = s.place(single, 0);
            order.push(placed!.jobId.split('-')[0]!);
            s.release(placed!.jobId);
          }
          // In any window, an owner with jobs still waiting is served before anyone is served twice.
          const distinct = new Set(owners).size;
          for (let start = 0; start + distinct <= order.length; start++) {
            const window = order.slice(start, start + distinct);
            const remaining = new Set(order.slice(start));
            if (remaining.size === distinct) expect(new Set(window).size).to.equal(distinct);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
