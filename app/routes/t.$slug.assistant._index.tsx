// /t/<slug>/assistant: the assistant on or off, which engine answers, the model's circuit
// breaker and its settings, live. Admins edit; agents read.
import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { api } from "../../convex/_generated/api";
import {
  AssistantSettingsForm,
  AssistantSettingsSummary,
  AssistantSwitch,
  BreakerPanel,
  EngineNotice,
} from "../components/assistant-settings";
import { DataRouteErrorView } from "../components/data-error-view";
import { LoadingState } from "../components/spinner";
import { requireUser } from "../lib/auth.server";
import { preload, preloadTenant } from "../lib/preload.server";
import { useTenant } from "../lib/tenant-context";
import { usePreloaded } from "../lib/use-preloaded";

export const meta: MetaFunction = () => [{ title: "Assistant — Switchboard" }];

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireUser(request);
  const { tenantId } = await preloadTenant(request, params.slug ?? "");
  if (!tenantId) return { settings: null, channels: null };
  const [settings, channels] = await Promise.all([
    preload(request, api.assistant.settings, { tenantId }),
    preload(request, api.channels.list, { tenantId }),
  ]);
  return { settings, channels };
}

export default function AssistantSettingsPage() {
  const tenant = useTenant();
  const preloaded = useLoaderData<typeof loader>();
  const settings = usePreloaded(api.assistant.settings, { tenantId: tenant.tenantId }, preloaded.settings);
  const channels = usePreloaded(api.channels.list, { tenantId: tenant.tenantId }, preloaded.channels);
  if (settings === undefined || channels === undefined)
    return <LoadingState label="Loading the assistant…" />;
  return (
    <div className="max-w-3xl space-y-10">
      <div className="space-y-4">
        <AssistantSwitch tenant={tenant} settings={settings} />
        <EngineNotice settings={settings} />
      </div>
      <BreakerPanel settings={settings} />
      {tenant.canAdminWrite ? (
        <AssistantSettingsForm tenant={tenant} settings={settings} channels={channels} />
      ) : (
        <AssistantSettingsSummary tenant={tenant} settings={settings} channels={channels} />
      )}
    </div>
  );
}

export function ErrorBoundary() {
  return <DataRouteErrorView />;
}
