// Plain text (an email body) with its http(s) links made clickable, line breaks kept.
import { linkify } from "../lib/format";

export function LinkifiedText({ text }: { text: string }) {
  return (
    <p className="font-mono text-sm break-words whitespace-pre-wrap text-slate-800">
      {linkify(text).map((segment, i) =>
        segment.kind === "link" ? (
          <a
            key={i}
            href={segment.href}
            className="font-medium text-brand-700 underline hover:text-brand-600"
          >
            {segment.text}
          </a>
        ) : (
          <span key={i}>{segment.text}</span>
        ),
      )}
    </p>
  );
}
