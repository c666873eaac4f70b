/** Mutations of valid JSON documents (official samples, configs, state files) for fuzzing. */
import fc from 'fast-check';

type Path = Array<string | number>;

/** Every path to a value inside `value` (object keys and array indexes), the root excluded. */
export function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push([...prefix, i]);
      pathsOf(v, [...prefix, i], out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  }
  return out;
}

export type Mutation = { kind: 'drop' } | { kind: 'set'; value: unknown };

/** A deep copy of `value` with the value at `path` dropped or replaced. */
export function mutateAt(value: unknown, path: Path, m: Mutation): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (m.kind === 'set') parent[last] = m.value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

/** A value of another type than most fields have: the usual suspects of a wrong-typed field. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 12 }),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant('\u0000\uffff'),
);

/** One to three mutations (drop a field, swap its type) of `doc`. */
export function mutated(doc: unknown): fc.Arbitrary<unknown> {
  const one = fc.record({
    at: fc.nat(),
    m: fc.oneof(fc.constant<Mutation>({ kind: 'drop' }), wrongValue.map((value): Mutation => ({ kind: 'set', value }))),
  });
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((ms) => {
    let out = doc;
    for (const { at, m } of ms) {
      const paths = pathsOf(out);
      if (paths.length === 0) break;
      out = mutateAt(out, paths[at % paths.length]!, m);
    }
    return out;
  });
}

/** The text of `doc` cut somewhere before its end. */
export function truncated(text: string): fc.Arbitrary<string> {
  return fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n));
}
