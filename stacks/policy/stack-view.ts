import type { StackView, SynthResource } from './types.ts';

/** The parts of a synthesized `cdk.tf.json` the policy pack reads. */
export interface SynthesizedStack {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly provider?: Record<string, Array<Record<string, unknown>> | Record<string, unknown>>;
  readonly terraform?: { readonly backend?: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Type of the pseudo resource that carries a stack's backend block (or its absence). */
export const BACKEND_TYPE = 'terraform_backend';

// `${type.name.attr}`; a `${data.…}` reference never matches a resource, which is right.
const REFERENCE = /^\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)(?:\.|\[|\})/;

function withoutMetadata(values: Record<string, unknown>): Record<string, unknown> {
  const { '//': _metadata, ...rest } = values;
  return rest;
}

/**
 * Every resource of the stack, plus one `terraform_backend` pseudo resource whose values are
 * `{ type, ...config }` of the backend, or `{ type: 'local' }` when the stack names none.
 */
export function resourcesOf(stackName: string, json: SynthesizedStack): SynthResource[] {
  const out: SynthResource[] = [];
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    for (const [name, values] of Object.entries(byName)) {
      out.push({ stack: stackName, type, name, address: `${type}.${name}`, values: withoutMetadata(values) });
    }
  }
  const backends = Object.entries(json.terraform?.backend ?? {});
  const [backendType, config] = backends[0] ?? ['local', {}];
  out.push({
    stack: stackName,
    type: BACKEND_TYPE,
    name: backendType,
    address: `terraform.backend.${backendType}`,
    values: { type: backendType, ...config },
  });
  return out;
}

function providerConfigs(json: SynthesizedStack, provider: string): Array<Record<string, unknown>> {
  const entry = json.provider?.[provider];
  if (entry === undefined) return [];
  return Array.isArray(entry) ? entry : [entry];
}

export function stackView(stackName: string, json: SynthesizedStack): StackView {
  const all = resourcesOf(stackName, json);
  const byAddress = new Map(all.map((r) => [r.address, r]));
  return {
    name: stackName,
    resources: (type) => all.filter((r) => r.type === type),
    resolve(value) {
      if (typeof value !== 'string') return undefined;
      const match = REFERENCE.exec(value);
      return match ? byAddress.get(`${match[1]}.${match[2]}`) : undefined;
    },
    regionOf(resource) {
      if (typeof resource.values.region === 'string') return resource.values.region;
      const ref = typeof resource.values.provider === 'string' ? resource.values.provider : (resource.type.split('_')[0] ?? '');
      const [provider = '', alias] = ref.split('.');
      const config = providerConfigs(json, provider).find((p) => (alias === undefined ? p.alias === undefined : p.alias === alias));
      return typeof config?.region === 'string' ? config.region : undefined;
    },
  };
}
