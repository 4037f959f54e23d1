/**
 * Uploads a CSV of contacts to Convex file storage and creates its import (decision 019): the
 * Contacts → Import page and a campaign's uploaded-list audience both start imports this way.
 */
import { useMutation } from "convex/react";
import { useCallback } from "react";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";

export function useContactUpload(): (tenantId: Id<"tenants">, file: File) => Promise<Id<"contactImports">> {
  const uploadUrl = useMutation(api.contactImports.generateUploadUrl);
  const create = useMutation(api.contactImports.create);
  return useCallback(
    async (tenantId, file) => {
      const url = await uploadUrl({ tenantId });
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": file.type || "text/csv" },
        body: file,
      });
      if (!res.ok) throw new Error("The upload failed: try again");
      const { storageId } = (await res.json()) as { storageId: Id<"_storage"> };
      return await create({ tenantId, storageId, fileName: file.name });
    },
    [uploadUrl, create],
  );
}
