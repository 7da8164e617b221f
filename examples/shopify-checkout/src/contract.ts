// The address contract of `POST /v1/address/validate`, answered identically by `lastmile dev` and the edge
// worker. docs/address.md describes every field; the Rust types are in `lastmile-core::address`.

/** The request in Shopify's field names, which the API accepts as given. Empty fields are left out. */
export interface AddressRequest {
  country_code: string;
  address1?: string;
  address2?: string;
  city?: string;
  province_code?: string;
  zip?: string;
  company?: string;
}

export type Verdict = 'valid' | 'fixable' | 'invalid';

export interface AddressResult {
  verdict: Verdict;
  /** ISO 3166-1 alpha-2. */
  country: string;
  standardized: Standardized;
  components: Components;
  issues: Issue[];
  changes: Change[];
  flags: Flags;
  /** Hint text moved out of the address ("near the school"), joined with "; ". */
  delivery_instructions: string | null;
  geocode: Geocode | null;
}

export interface Standardized {
  lines: string[];
  locality: string | null;
  dependent_locality: string | null;
  /** The form the country's postal format prints ("DC", a Japanese prefecture name). */
  region: string | null;
  /** ISO 3166-2 when known ("US-DC", "JP-13"). */
  region_code: string | null;
  postcode: string | null;
  organization: string | null;
  /** The whole address as printed on a label. */
  formatted: string[];
}

export interface Components {
  house_number: string | null;
  pre_directional: string | null;
  street_name: string | null;
  street_suffix: string | null;
  post_directional: string | null;
  unit_type: string | null;
  unit_number: string | null;
  po_box: string | null;
  military: BoxUnit | null;
  rural_route: BoxUnit | null;
  locality: string | null;
  region: string | null;
  postcode: string | null;
  zip4: string | null;
}

/** `PSC 1234 BOX 5678` (military) or `RR 2 BOX 152` (rural route). */
export interface BoxUnit {
  kind: string;
  number: string;
  box: string | null;
}

export type Severity = 'info' | 'warning' | 'error';

export type IssueCode =
  | 'empty_address'
  | 'missing_street'
  | 'missing_house_number'
  | 'missing_locality'
  | 'missing_region'
  | 'missing_postcode'
  | 'postcode_format'
  | 'unknown_region'
  | 'postcode_region_mismatch'
  | 'postcode_locality_mismatch'
  | 'unknown_postcode'
  | 'missing_unit_number'
  | 'po_box_not_allowed_for_courier'
  | 'military_not_allowed_for_courier'
  | 'military_region_mismatch'
  | 'vague_location';

export interface Issue {
  code: IssueCode;
  /** The contract's field name: `address`, `lines`, `lines[0]`, `locality`, `region`, `postcode` … */
  field: string;
  severity: Severity;
  /** English, written for the buyer. */
  message: string;
}

export type ChangeKind = 'standardize' | 'infer' | 'correct' | 'move';

export interface Change {
  kind: ChangeKind;
  field: string;
  from: string | null;
  to: string | null;
}

export interface Flags {
  po_box: boolean;
  military: boolean;
  residential: {value: 'yes' | 'no' | 'unknown'; reason: string};
  remote_area: {list: string; name: string; source: string} | null;
  vague_location: boolean;
}

export interface Geocode {
  lat: number;
  lon: number;
  precision: 'postcode' | 'outward_code' | 'fsa';
}

/** The body of every 4xx answer. */
export interface ErrorBody {
  error: {code: string; message: string; field: string | null};
}

/** Whether a 2xx body is an answer of this contract: a mistyped `worker_url` can point at any JSON. */
export function isAddressResult(body: unknown): body is AddressResult {
  if (typeof body !== 'object' || body === null) return false;
  const {verdict, issues, standardized} = body as Partial<AddressResult>;
  return (
    (verdict === 'valid' || verdict === 'fixable' || verdict === 'invalid') &&
    Array.isArray(issues) &&
    Array.isArray(standardized?.lines) &&
    Array.isArray(standardized?.formatted)
  );
}
