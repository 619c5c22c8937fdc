import { describe, expect, it } from '@jest/globals';
import { scanDirectives } from '../src/tool-directives.js';

describe('scanDirectives', () => {
  it('finds each directive in order and cuts it out of the text', () => {
    expect(scanDirectives('a [[tool:one {"x":1}]] b [[tool-loop:two]] c')).toEqual({
      directives: [
        { kind: 'once', name: 'one', arguments: '{"x":1}' },
        { kind: 'loop', name: 'two', arguments: '{}' },
      ],
      rest: 'a   b   c',
    });
  });

  it('leaves text without directives as it is', () => {
    const text = 'no [[directives]] here [[tool:]]';
    expect(scanDirectives(text)).toEqual({ directives: [], rest: text });
  });

  it('ends JSON arguments at the ]] after which they parse, invalid ones at the first ]]', () => {
    expect(scanDirectives('[[tool:t {"a":[[1]]}]] after').directives[0]?.arguments).toBe('{"a":[[1]]}');
    expect(scanDirectives('[[tool:t [1,[2]]]]').directives[0]?.arguments).toBe('[1,[2]]');
    expect(scanDirectives('[[tool:t {"a": [[1 ]] then [[tool:u {}]]')).toEqual({
      directives: [
        { kind: 'once', name: 't', arguments: '{"a": [[1' },
        { kind: 'once', name: 'u', arguments: '{}' },
      ],
      rest: '  then  ',
    });
  });

  it('ignores an unclosed directive', () => {
    expect(scanDirectives('[[tool:t {"a":1} and more')).toEqual({ directives: [], rest: '[[tool:t {"a":1} and more' });
  });
});
