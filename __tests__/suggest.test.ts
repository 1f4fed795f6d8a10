import { closest, didYouMean } from '../src/core/suggest.js';

test.each([
  ['wieght', ['weight', 'name', 'type'], ['weight']],
  ['netwroking', ['networking', 'sql'], ['networking']],
  ['zzz', ['weight', 'name'], []],
])('%s -> %j', (name, candidates, expected) => {
  expect(closest(name, candidates)).toEqual(expected);
});

test('didYouMean phrases one suggestion', () => {
  expect(didYouMean('domian', ['domain', 'replicas'])).toBe(' — did you mean "domain"?');
});
