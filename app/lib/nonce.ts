// The per-request CSP nonce, for the inline scripts the document renders (Remix's <Scripts>,
// <ScrollRestoration> and our window.ENV). Only the server knows it; the browser hides it.
import { createContext, useContext } from "react";

export const NonceContext = createContext<string | undefined>(undefined);

export function useNonce(): string | undefined {
  return useContext(NonceContext);
}
