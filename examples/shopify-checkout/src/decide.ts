// Everything between the checkout's address and lastmile's answer that needs no Shopify runtime: the request,
// the block/allow decision, the messages and the suggested address. Only types come from the Shopify package.
import type {MailingAddress, ShippingAddress, ValidationError} from '@shopify/ui-extensions/checkout';

import type {AddressRequest, AddressResult, Issue} from './contract';

/** The address fields a suggestion may change, in Shopify's names. */
export type SuggestedAddress = Pick<ShippingAddress, 'address1' | 'address2' | 'city' | 'provinceCode' | 'zip'>;

export interface Suggestion {
  /** What the buyer reads: the suggested address as its label prints it. */
  formatted: string[];
  /** What "Use suggested address" merges into the buyer's address. */
  address: SuggestedAddress;
  /** A hint lastmile took out of the address ("near the school"), or null. */
  deliveryInstructions: string | null;
}

export type Decision =
  | {kind: 'allow'}
  | {kind: 'suggest'; suggestion: Suggestion}
  | {kind: 'block'; reason: string; errors: ValidationError[]};

/** The validate endpoint under the merchant's `worker_url` setting, or null while the setting is unusable. */
export function validateEndpoint(workerUrl: unknown): string | null {
  if (typeof workerUrl !== 'string' || !/^https?:\/\/\S+$/i.test(workerUrl.trim())) return null;
  return `${workerUrl.trim().replace(/\/+$/, '')}/v1/address/validate`;
}

/**
 * The request for the buyer's address, or null before there is a country and a street to check: until then
 * Shopify's own required-field checks speak for the form. The buyer's name and phone are not sent, since the
 * check does not need them.
 */
export function buildRequest(address: ShippingAddress | undefined): AddressRequest | null {
  if (!address?.countryCode || !address.address1?.trim()) return null;
  const request: AddressRequest = {country_code: address.countryCode};
  const optional: Array<[Exclude<keyof AddressRequest, 'country_code'>, string | undefined]> = [
    ['address1', address.address1],
    ['address2', address.address2],
    ['city', address.city],
    ['province_code', address.provinceCode],
    ['zip', address.zip],
    ['company', address.company],
  ];
  for (const [field, value] of optional) {
    const trimmed = value?.trim();
    if (trimmed) request[field] = trimmed;
  }
  return request;
}

/**
 * What to do with lastmile's answer for `current`. No answer (network error, timeout, non-2xx) allows: a
 * checkout must never be lost to the address check being down.
 */
export function decide(result: AddressResult | null, current: ShippingAddress | undefined): Decision {
  if (result === null) return {kind: 'allow'};
  if (result.verdict === 'invalid') {
    const errors = result.issues.filter((issue) => issue.severity === 'error');
    if (errors.length === 0) return {kind: 'allow'};
    return {
      kind: 'block',
      // Shopify keeps the reason for its own debugging; the buyer sees `errors`.
      reason: `lastmile address check: ${errors.map((issue) => issue.code).join(', ')}`,
      errors: errors.map(validationError),
    };
  }
  if (result.verdict === 'fixable') {
    const suggestion = suggest(result, current);
    if (suggestion) return {kind: 'suggest', suggestion};
  }
  return {kind: 'allow'};
}

/** The sentence under the suggestion about the delivery hint lastmile took out of the address. */
export function deliveryInstructionsMessage(instructions: string, savedToNote: boolean): string {
  return savedToNote
    ? `We'll move "${instructions}" to the order note as delivery instructions.`
    : `"${instructions}" is a delivery instruction, not part of the address, so the suggestion leaves it out.`;
}

/** The order note with the delivery instructions added, keeping whatever the buyer already wrote. */
export function noteWithInstructions(note: string | undefined, instructions: string): string {
  const existing = note?.trim() ?? '';
  if (existing.includes(instructions)) return existing;
  return existing ? `${existing}\n${instructions}` : instructions;
}

const DELIVERY_ADDRESS_TARGET = '$.cart.deliveryGroups[0].deliveryAddress';

function validationError(issue: Issue): ValidationError {
  const message = sentence(issue.message);
  const field = shopifyField(issue.field);
  return field ? {message, target: `${DELIVERY_ADDRESS_TARGET}.${field}`} : {message};
}

// Street issues name the line they concern; Shopify's first line is address1 and the rest is address2.
function shopifyField(contractField: string): keyof MailingAddress | undefined {
  switch (contractField) {
    case 'address':
    case 'lines':
    case 'lines[0]':
      return 'address1';
    case 'locality':
      return 'city';
    case 'region':
      return 'provinceCode';
    case 'postcode':
      return 'zip';
    default:
      return /^lines\[\d+\]$/.test(contractField) ? 'address2' : undefined;
  }
}

function suggest(result: AddressResult, current: ShippingAddress | undefined): Suggestion | null {
  const {lines, dependent_locality, locality, region_code, postcode, formatted} = result.standardized;
  const address: SuggestedAddress = {};
  const [firstLine, ...otherLines] = lines;
  if (firstLine !== undefined) {
    address.address1 = firstLine;
    // Set even when empty: a unit typed as address2 may now be part of the first line (US style).
    address.address2 = [...otherLines, dependent_locality].filter((part) => part).join(', ');
  }
  if (locality) address.city = locality;
  if (region_code) address.provinceCode = shopifyProvinceCode(result.country, region_code);
  if (postcode) address.zip = postcode;

  const fields = Object.keys(address) as Array<keyof SuggestedAddress>;
  const changesSomething = fields.some((field) => (current?.[field] ?? '') !== address[field]);
  if (!changesSomething) return null;
  return {formatted, address, deliveryInstructions: result.delivery_instructions};
}

// lastmile's region_code is ISO 3166-2 ("US-DC"). Shopify's provinceCode drops the country part ("DC"),
// except in Japan, where it keeps the ISO form ("JP-13").
function shopifyProvinceCode(country: string, regionCode: string): string {
  const countryPrefix = `${country}-`;
  return country !== 'JP' && regionCode.startsWith(countryPrefix) ? regionCode.slice(countryPrefix.length) : regionCode;
}

// lastmile writes messages as lower-case clauses ("the locality (city or town) is missing").
function sentence(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}
