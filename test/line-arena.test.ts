import { describe, expect, it } from 'vitest';
import { LineArena } from '../warehouse/line-arena.js';

const text = (bufs: Buffer[]) => Buffer.concat(bufs).toString('utf8');

describe('LineArena', () => {
  const lines = ['a\tb', '', 'ünïcødé 😀\tx', 'x'.repeat(300_000), 'last'];

  it('keeps lines as UTF-8 with their newlines, across buffers, and gives each back', () => {
    const arena = new LineArena();
    for (const l of lines) arena.push(l);
    expect(arena.length).toBe(lines.length);
    expect(text(arena.all())).toBe(lines.map((l) => `${l}\n`).join(''));
    lines.forEach((l, i) => {
      expect(arena.line(i)).toBe(l);
    });
    expect(arena.pick([4, 0, 2]).toString('utf8')).toBe(`last\na\tb\n${lines[2]}\n`);
  });

  it('appends another arena after its own lines', () => {
    const a = new LineArena();
    const b = new LineArena();
    a.push('one');
    b.push('two');
    b.push('three');
    a.append(b);
    expect(a.length).toBe(3);
    expect(text(a.all())).toBe('one\ntwo\nthree\n');
    expect(a.line(2)).toBe('three');
    expect(a.pick([1]).toString()).toBe('two\n');
  });

  it('fills a buffer before starting the next', () => {
    const arena = new LineArena();
    for (let i = 0; i < 20_000; i++) arena.push(`line ${i}`);
    expect(arena.all().length).toBeLessThan(5);
    expect(arena.line(19_999)).toBe('line 19999');
  });
});
