// The extension: below the delivery address form, it checks the address with the lastmile edge worker,
// blocks progress on addresses that cannot be delivered and offers a corrected one when lastmile has it.
import '@shopify/ui-extensions/preact';
import type {Interceptor} from '@shopify/ui-extensions/checkout';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {isAddressResult, type AddressRequest, type AddressResult, type ErrorBody} from './contract';
import {
  buildRequest,
  decide,
  deliveryInstructionsMessage,
  noteWithInstructions,
  validateEndpoint,
  type Decision,
  type Suggestion,
} from './decide';

// Past this the buyer has waited long enough: the check gives up and lets them through.
const TIMEOUT_MS = 2500;
// Autofill and tabbing commit several fields in a row: check once they settle.
const SETTLE_MS = 800;

export default async () => {
  render(<AddressCheck />, document.body);
};

function AddressCheck() {
  // Reading these signals here re-renders the extension when the buyer edits the address.
  const address = shopify.shippingAddress?.value;
  const endpoint = validateEndpoint(shopify.settings.value.worker_url);
  const request = buildRequest(address);
  const key = endpoint && request ? checkKey(endpoint, request) : null;
  const [checked, setChecked] = useState<{key: string; decision: Decision} | null>(null);

  useEffect(() => {
    const removal = shopify.buyerJourney.intercept(interceptor);
    return () => void removal.then((remove) => remove());
  }, []);

  // The interceptor only runs when the buyer leaves the step, and then the form is gone: check as soon as the
  // address settles so that a suggestion shows while the buyer can still use it.
  useEffect(() => {
    if (!endpoint || !request || !key) return;
    let superseded = false;
    const timer = setTimeout(() => {
      void check(endpoint, request).then((result) => {
        if (!superseded) setChecked({key, decision: decide(result, address)});
      });
    }, SETTLE_MS);
    return () => {
      superseded = true;
      clearTimeout(timer);
    };
  }, [key]);

  if (checked?.key !== key || checked.decision.kind !== 'suggest') return null;
  return <SuggestionBanner suggestion={checked.decision.suggestion} />;
}

const interceptor: Interceptor = async ({canBlockProgress}) => {
  if (!canBlockProgress) return {behavior: 'allow'};
  const endpoint = validateEndpoint(shopify.settings.value.worker_url);
  if (!endpoint) {
    console.warn('lastmile: the worker_url setting is not an http(s) URL; the address is not checked');
    return {behavior: 'allow'};
  }
  const address = shopify.shippingAddress?.value;
  const request = buildRequest(address);
  if (!request) return {behavior: 'allow'};
  const decision = decide(await check(endpoint, request), address);
  return decision.kind === 'block'
    ? {behavior: 'block', reason: decision.reason, errors: decision.errors}
    : {behavior: 'allow'};
};

function SuggestionBanner({suggestion}: {suggestion: Suggestion}) {
  const [applying, setApplying] = useState(false);
  const instructions = shopify.instructions.value;
  // Absent without protected customer data access; refused in accelerated checkouts (Apple Pay, Google Pay).
  const canChangeAddress =
    shopify.applyShippingAddressChange !== undefined && instructions.delivery.canSelectCustomAddress;
  const canSaveNote = instructions.notes.canUpdateNote;

  async function applySuggestion() {
    setApplying(true);
    try {
      const result = await shopify.applyShippingAddressChange?.({
        type: 'updateShippingAddress',
        address: suggestion.address,
      });
      if (result?.type !== 'success') {
        console.warn('lastmile: Shopify did not take the suggested address', result?.errors);
        return;
      }
      if (suggestion.deliveryInstructions && canSaveNote) {
        const note = noteWithInstructions(shopify.note.value, suggestion.deliveryInstructions);
        const noteResult = await shopify.applyNoteChange({type: 'updateNote', note});
        if (noteResult.type === 'error') console.warn('lastmile: the order note was not updated', noteResult.message);
      }
    } finally {
      setApplying(false);
    }
  }

  return (
    <s-banner heading="Suggested shipping address" tone="info">
      <s-stack gap="small-300">
        {suggestion.formatted.map((line, index) => (
          <s-text key={index}>{line}</s-text>
        ))}
        {suggestion.deliveryInstructions && (
          <s-paragraph color="subdued">
            {deliveryInstructionsMessage(suggestion.deliveryInstructions, canChangeAddress && canSaveNote)}
          </s-paragraph>
        )}
        {canChangeAddress && (
          <s-button variant="secondary" loading={applying} onClick={() => void applySuggestion()}>
            Use suggested address
          </s-button>
        )}
      </s-stack>
    </s-banner>
  );
}

function checkKey(endpoint: string, request: AddressRequest): string {
  return `${endpoint} ${JSON.stringify(request)}`;
}

// The settle check and the interceptor mostly ask about the same address: they share one answer.
let lastCheck: {key: string; answer: Promise<AddressResult | null>} | undefined;

function check(endpoint: string, request: AddressRequest): Promise<AddressResult | null> {
  const key = checkKey(endpoint, request);
  if (lastCheck?.key === key) return lastCheck.answer;
  const answer = callWorker(endpoint, request);
  lastCheck = {key, answer};
  // A failed call is no answer: the next check of the same address tries again.
  void answer.then((result) => {
    if (result === null && lastCheck?.answer === answer) lastCheck = undefined;
  });
  return answer;
}

/** lastmile's answer, or null when there is none to act on. Logs why, never the address. */
async function callWorker(endpoint: string, request: AddressRequest): Promise<AddressResult | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    // The worker checks this token's signature, audience (the app) and shop before it answers.
    const token = await shopify.sessionToken.get();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', Authorization: `Bearer ${token}`},
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const code = (body as ErrorBody | null)?.error?.code ?? 'no error body';
      console.warn(`lastmile: address check answered ${response.status} (${code}); not blocking the buyer`);
      return null;
    }
    if (!isAddressResult(body)) {
      console.warn('lastmile: address check answered something else than an address result; not blocking');
      return null;
    }
    return body;
  } catch (error) {
    console.warn('lastmile: address check failed or timed out; not blocking the buyer', error);
    return null;
  } finally {
    clearTimeout(timer);
  }
}
