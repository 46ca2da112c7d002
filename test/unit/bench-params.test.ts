import { expect } from 'chai';
import { loadParams } from '../../bench/params.js';
import { errorMessage } from '../helpers/temp-services.js';

describe('bench parameters: the soak scenario', () => {
  it('runs the comparison by default, and the soak of 100,000 jobs when asked', () => {
    expect(loadParams([], {})).to.include({ scenario: 'compare', soakJobs: 100_000 });
    expect(loadParams(['--scenario', 'soak', '--soak-jobs', '2000'], {})).to.include({ scenario: 'soak', soakJobs: 2000 });
    expect(loadParams([], { BENCH_SCENARIO: 'soak', BENCH_SOAK_JOBS: '50' })).to.include({ scenario: 'soak', soakJobs: 50 });
  });

  it('refuses an unknown scenario and a job count out of range, naming the flag', () => {
    expect(errorMessage(() => loadParams(['--scenario', 'soke'], {}))).to.equal("--scenario must be 'compare', 'soak' or 'scale-out' (got 'soke')");
    expect(errorMessage(() => loadParams(['--soak-jobs', '0'], {}))).to.equal("--soak-jobs must be an integer from 1 to 10000000 (got '0')");
  });
});

describe('bench parameters: rounds of the comparison', () => {
  it('runs three rounds by default, and as many as asked', () => {
    expect(loadParams([], {})).to.include({ rounds: 3, warmup: 3000 });
    expect(loadParams(['--rounds', '3'], {})).to.include({ rounds: 3 });
    expect(loadParams([], { BENCH_ROUNDS: '1' })).to.include({ rounds: 1 });
  });

  it('refuses a count of rounds out of range, naming the flag', () => {
    expect(errorMessage(() => loadParams(['--rounds', '0'], {}))).to.equal("--rounds must be an integer from 1 to 20 (got '0')");
  });
});
