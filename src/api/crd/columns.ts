// A custom resource's Table: NAME, then the version's additionalPrinterColumns (or AGE when it has
// none), each cell the first result of the column's JSONPath, typed as the apiextensions server's
// table convertor types it (integer, number, boolean, string, date as an age). jsonpath-plus
// evaluates the paths (its safe evaluator: filter expressions never run code).

import { JSONPath } from 'jsonpath-plus';
import type { ColumnDefinition, Printer } from '../printers.js';
import type { CustomResourceColumnDefinition, KObject } from '../types.js';
import { humanAge } from '../../util/time.js';

const NAME: ColumnDefinition = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.', priority: 0 };
const DEFAULT_COLUMNS: CustomResourceColumnDefinition[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];

function firstResult(obj: KObject, path: string): unknown {
  try {
    const results = JSONPath({ path: `$${path}`, json: obj, wrap: true }) as unknown[];
    return results.length ? results[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Go's %v of a JSON value, as kubectl's JSONPath printer writes a string column. */
function printed(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(printed).join(' ')}]`;
  if (v && typeof v === 'object') return `map[${Object.keys(v).sort().map((k) => `${k}:${printed((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  return String(v);
}

export function cellFor(type: CustomResourceColumnDefinition['type'], value: unknown, now: number): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      if (typeof value !== 'string') return null;
      return Number.isNaN(Date.parse(value)) ? '<invalid>' : humanAge(value, now);
    default:
      return printed(value);
  }
}

export function customPrinter(columns: CustomResourceColumnDefinition[] | undefined): Printer {
  const cols = columns?.length ? columns : DEFAULT_COLUMNS;
  return {
    columns: [
      NAME,
      ...cols.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format ?? '',
        description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
        priority: c.priority ?? 0,
      })),
    ],
    cells: (obj, now) => [obj.metadata.name ?? '', ...cols.map((c) => cellFor(c.type, firstResult(obj, c.jsonPath), now))],
  };
}
