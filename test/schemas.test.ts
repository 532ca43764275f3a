// The JSON Schemas in events/schemas/ against the same case table as the validator: they must agree on accept or
// reject for every case, except the validator-only ones (occurred_at after now + 1 day, or within a day of
// 2010-01-01 once the offset is applied), where the schema accepts and only the validator can reject.
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { allSchemas, engagementSchema, eventSchema, sendSchema, subscriptionSchema, type JsonSchema } from '../events/schemas.js';
import { CHANNELS, ENGAGEMENT_TYPES, FREQUENCIES, SEND_CATEGORIES, SUBSCRIPTION_TYPES } from '../events/types.js';
import { validateEvent } from '../events/validate.js';
import { CASES, NOW, type ContractCase } from './contract-cases.js';

// Under NodeNext the default import of this CommonJS module is its exports object; the class is `.default`.
const Ajv = Ajv2020.default;
const ajv = new Ajv({ strict: true, allErrors: true, schemas: [...allSchemas] });

function compiled(schema: JsonSchema) {
  const validate = ajv.getSchema(schema.$id);
  if (!validate) throw new Error(`schema ${schema.$id} did not compile`);
  return validate;
}
const byFamily = {
  sends: compiled(sendSchema),
  engagements: compiled(engagementSchema),
  subscriptions: compiled(subscriptionSchema),
};
const anyEvent = compiled(eventSchema);

const familyOf = (value: unknown): keyof typeof byFamily | null => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const type = (value as { type?: unknown }).type;
  if (type === 'send') return 'sends';
  if ((ENGAGEMENT_TYPES as readonly unknown[]).includes(type)) return 'engagements';
  if ((SUBSCRIPTION_TYPES as readonly unknown[]).includes(type)) return 'subscriptions';
  return null;
};

/** The parsed value a schema sees: the event itself, or the raw text parsed as JSON. */
const parsedValue = (c: ContractCase): unknown => (Object.hasOwn(c, 'event') ? c.event : JSON.parse(String(c.raw)));

/** Whether the validator accepts; a throw counts as neither (only known bugs throw). */
function validatorAccepts(value: unknown): boolean {
  return validateEvent(value, NOW).ok;
}

const schemaCases = CASES.filter((c) => !c.transport && !c.valueOnly);

describe('the schema files', () => {
  it('are draft 2020-12 with an $id each', () => {
    for (const s of allSchemas) {
      expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(s.$id).toMatch(/^https:\/\/.+\/[a-z]+\.schema\.json$/);
    }
    expect(new Set(allSchemas.map((s) => s.$id)).size).toBe(allSchemas.length);
  });

  it('describe every field', () => {
    const missing: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n, i) => {
          walk(n, `${at}/${i}`);
        });
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const obj = node as Record<string, unknown>;
      for (const key of ['properties', '$defs'] as const) {
        const members = obj[key];
        if (typeof members !== 'object' || members === null) continue;
        for (const [name, sub] of Object.entries(members)) {
          if (typeof (sub as { description?: unknown }).description !== 'string') missing.push(`${at}/${key}/${name}`);
        }
      }
      // `if` subschemas are conditions on fields described elsewhere, not fields.
      for (const [k, v] of Object.entries(obj)) if (k !== 'if') walk(v, `${at}/${k}`);
    };
    for (const s of allSchemas) walk(s, s.$id);
    expect(missing).toEqual([]);
  });

  it('list the same enums as events/types.ts', () => {
    const defs = (allSchemas[0].$defs ?? {}) as Record<string, { enum?: unknown[] }>;
    expect(defs.channel.enum).toEqual([...CHANNELS]);
    expect(defs.frequency.enum).toEqual([...FREQUENCIES]);
    expect(defs.nullable_frequency.enum).toEqual([...FREQUENCIES, null]);
    const props = (s: JsonSchema) => s.properties as Record<string, { enum?: unknown[]; const?: unknown }>;
    expect(props(sendSchema).category.enum).toEqual([...SEND_CATEGORIES]);
    expect(props(sendSchema).type.const).toBe('send');
    expect(props(engagementSchema).type.enum).toEqual([...ENGAGEMENT_TYPES]);
    expect(props(subscriptionSchema).type.enum).toEqual([...SUBSCRIPTION_TYPES]);
    expect(props(eventSchema).type.enum).toEqual(['send', ...ENGAGEMENT_TYPES, ...SUBSCRIPTION_TYPES]);
  });

  it('run every contract case that is not decided by bytes alone', () => {
    expect(schemaCases.length).toBeGreaterThan(150);
    expect(CASES.filter((c) => c.validatorOnly && c.expected.ok)).toEqual([]); // validator-only means "validator rejects"
  });
});

describe('event.schema.json meets the contract', () => {
  for (const c of schemaCases) {
    const expected = c.validatorOnly ? true : c.expected.ok;
    it(`${c.name}: ${expected ? 'accepts' : 'rejects'}${c.validatorOnly ? ` (validator-only: ${c.validatorOnly})` : ''}`, () => {
      const value = parsedValue(c);
      expect(anyEvent(value), JSON.stringify(anyEvent.errors)).toBe(expected);
      // The family schema on its own gives the same answer as the dispatching one.
      const family = familyOf(value);
      if (family) expect(byFamily[family](value)).toBe(expected);
    });
  }
});

describe('schema and validator agree', () => {
  for (const c of schemaCases) {
    it(c.name, () => {
      const value = parsedValue(c);
      const schema = anyEvent(value);
      const validator = validatorAccepts(value);
      if (c.validatorOnly) {
        // The one permitted disagreement: the schema lets it through and the validator stops it.
        expect({ schema, validator }).toEqual({ schema: true, validator: false });
      } else {
        expect(validator).toBe(schema);
      }
    });
  }
});
