// Types the `shopify` global of src/Checkout.tsx as the API of its target. Shopify CLI writes this file in
// this form and rewrites it when targets change.
import '@shopify/ui-extensions';

declare module './src/Checkout.tsx' {
  const shopify: import('@shopify/ui-extensions/purchase.checkout.delivery-address.render-after').Api;
  const globalThis: {shopify: typeof shopify};
}
