import { expect } from 'chai';
import { userNameProblem } from '../../src/store/user-store.js';

describe('userNameProblem', () => {
  for (const name of ['a', 'Bob_1', 'ann@example.org', 'x.y-z', 'n'.repeat(64)]) {
    it(`accepts '${name.length > 10 ? `${name.length} characters` : name}'`, () => {
      expect(userNameProblem(name)).to.equal(undefined);
    });
  }
  for (const name of ['', 'two words', 'slash/name', 'ümlaut', 'n'.repeat(65)]) {
    it(`refuses '${name.length > 10 ? `${name.length} characters` : name}'`, () => {
      expect(userNameProblem(name)).to.equal(`a user name is 1 to 64 letters, digits, '_', '.', '@' or '-'; got '${name}'`);
    });
  }
  it('keeps anonymous for jobs submitted without a token', () => {
    expect(userNameProblem('anonymous')).to.equal("'anonymous' is the owner of jobs submitted without a token; it cannot be a user");
  });
});
