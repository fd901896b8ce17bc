// Merge rules for layering a user's config over the default:
// maps merge key by key, scalars replace, lists append (duplicates dropped);
// a list entry "!x" removes an inherited entry "x" (e.g. packages: ["!htop"]).
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function isMap(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function merge(base: Json, over: Json): Json {
  if (isMap(base) && isMap(over)) {
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k] as Json, v) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) {
    let out = [...base];
    for (const v of over) {
      if (typeof v === 'string' && v.startsWith('!')) out = out.filter((x) => x !== v.slice(1));
      else if (!out.some((x) => JSON.stringify(x) === JSON.stringify(v))) out.push(v);
    }
    return out;
  }
  return over;
}
