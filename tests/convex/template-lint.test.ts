/**
 * lintTemplate: every rule with a template that breaks it and the nearest one that passes.
 * Templates are Meta's create-template request bodies, as tenants' editors produce them.
 */
import { describe, expect, it } from "vitest";
import { lintTemplate, type TemplateInput } from "../../convex/model/templateLint";

type Component = Record<string, unknown>;

/** A utility template Meta accepts: header, body with two samples, footer, two quick replies. */
function base(over: Partial<TemplateInput> = {}): TemplateInput {
  return {
    name: "order_shipped",
    category: "UTILITY",
    language: "en_US",
    components: [
      { type: "HEADER", format: "TEXT", text: "Your order is on its way" },
      {
        type: "BODY",
        text: "Hi {{1}}, your order {{2}} has shipped and should arrive within three days.",
        example: { body_text: [["Ana", "A-1042"]] },
      },
      { type: "FOOTER", text: "Reply STOP to opt out" },
      {
        type: "BUTTONS",
        buttons: [
          { type: "QUICK_REPLY", text: "Track my order" },
          { type: "QUICK_REPLY", text: "Talk to a person" },
        ],
      },
    ],
    ...over,
  };
}

/** The base template with one component replaced (by type) or removed (null). */
function withComponent(type: string, component: Component | null, over: Partial<TemplateInput> = {}) {
  const t = base(over);
  const others = t.components.filter((c) => (c as Component).type !== type);
  return { ...t, components: component ? [...others, component] : others };
}

const body = (text: string, samples?: string[]) =>
  withComponent("BODY", {
    type: "BODY",
    text,
    ...(samples ? { example: { body_text: [samples] } } : {}),
  });

const namedBody = (text: string, params: { param_name: string; example: string }[]) =>
  withComponent(
    "BODY",
    { type: "BODY", text, example: { body_text_named_params: params } },
    { parameter_format: "NAMED" },
  );

const buttons = (...list: Component[]) => withComponent("BUTTONS", { type: "BUTTONS", buttons: list });
const qr = (text: string) => ({ type: "QUICK_REPLY", text });
const url = (text = "Open", address = "https://shop.example.com/orders", example?: string) => ({
  type: "URL",
  text,
  url: address,
  ...(example ? { example: [example] } : {}),
});

const LONG_BODY = "Your order has shipped. ".repeat(43); // 1,032 characters

/** [rule, a template that breaks it, the nearest template that does not]. */
const CASES: [string, TemplateInput, TemplateInput][] = [
  ["name.required", base({ name: "" }), base()],
  ["name.format", base({ name: "Order Shipped!" }), base({ name: "order_shipped_2" })],
  ["name.length", base({ name: "a".repeat(513) }), base({ name: "a".repeat(512) })],
  ["category.valid", base({ category: "PROMOTIONAL" }), base({ category: "MARKETING" })],
  ["language.valid", base({ language: "en-US" }), base({ language: "en_US" })],
  ["language.valid", base({ language: "xx_YY" }), base({ language: "pt_BR" })],
  [
    "parameter_format.valid",
    base({ parameter_format: "ORDERED" as never }),
    base({ parameter_format: "POSITIONAL" }),
  ],
  ["components.type", { ...base(), components: [...base().components, { type: "CAROUSEL_X" }] }, base()],
  [
    "components.duplicate",
    { ...base(), components: [...base().components, { type: "FOOTER", text: "Again" }] },
    base(),
  ],
  ["body.required", withComponent("BODY", null), base()],
  ["body.required", body("   "), body("Your parcel is on its way to you today.")],
  ["body.length", body(LONG_BODY), body(LONG_BODY.slice(0, 1024))],
  [
    "variables.sequence",
    body("Hi {{1}}, your order {{3}} has shipped and arrives soon.", ["Ana", "A-1"]),
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", "A-1"]),
  ],
  [
    "variables.sequence",
    body("Hi {{2}}, your order has shipped and arrives very soon.", ["Ana"]),
    body("Hi {{1}}, your order has shipped and arrives very soon.", ["Ana"]),
  ],
  [
    "variables.mixed",
    body("Hi {{1}}, your order {{order_id}} has shipped and arrives soon.", ["Ana", "A-1"]),
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", "A-1"]),
  ],
  [
    "variables.format",
    body("Hi {{first_name}}, your order has shipped and arrives soon.", ["Ana"]),
    namedBody("Hi {{first_name}}, your order has shipped and arrives soon.", [
      { param_name: "first_name", example: "Ana" },
    ]),
  ],
  [
    "variables.named_format",
    namedBody("Hi {{First_Name}}, your order has shipped and arrives soon.", [
      { param_name: "First_Name", example: "Ana" },
    ]),
    namedBody("Hi {{first_name}}, your order has shipped and arrives soon.", [
      { param_name: "first_name", example: "Ana" },
    ]),
  ],
  [
    "variables.syntax",
    body("Hi {{1}, your order has shipped and arrives very soon today.", []),
    body("Hi there, your order has shipped and arrives very soon today."),
  ],
  [
    "variables.syntax",
    body("Hi {{first name}}, your order has shipped and arrives soon.", ["Ana"]),
    body("Hi {{1}}, your order has shipped and arrives very soon.", ["Ana"]),
  ],
  [
    "variables.edges",
    body("{{1}}, your order has shipped and arrives very soon.", ["Ana"]),
    body("Hello {{1}}, your order has shipped and arrives very soon.", ["Ana"]),
  ],
  [
    "variables.edges",
    body("Your order has shipped and arrives very soon, {{1}}", ["Ana"]),
    body("Your order has shipped and arrives very soon, {{1}}. Thank you!", ["Ana"]),
  ],
  [
    "variables.adjacent",
    body("Hello, your order {{1}} {{2}} has shipped and arrives very soon.", ["A-1", "Ana"]),
    body("Hello, your order {{1}} for {{2}} has shipped and arrives very soon.", ["A-1", "Ana"]),
  ],
  [
    "samples.missing",
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon."),
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", "A-1"]),
  ],
  [
    "samples.missing",
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", " "]),
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", "A-1"]),
  ],
  [
    "samples.count",
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana"]),
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", "A-1"]),
  ],
  [
    "samples.count",
    body("Hi {{1}}, your order has shipped and arrives very soon.", ["Ana", "A-1"]),
    body("Hi {{1}}, your order has shipped and arrives very soon.", ["Ana"]),
  ],
  [
    "samples.missing",
    namedBody("Hi {{first_name}}, order {{order_id}} has shipped and arrives soon.", [
      { param_name: "first_name", example: "Ana" },
    ]),
    namedBody("Hi {{first_name}}, order {{order_id}} has shipped and arrives soon.", [
      { param_name: "first_name", example: "Ana" },
      { param_name: "order_id", example: "A-1" },
    ]),
  ],
  [
    "samples.count",
    namedBody("Hi {{first_name}}, your order has shipped and arrives soon.", [
      { param_name: "first_name", example: "Ana" },
      { param_name: "order_id", example: "A-1" },
    ]),
    namedBody("Hi {{first_name}}, your order has shipped and arrives soon.", [
      { param_name: "first_name", example: "Ana" },
    ]),
  ],
  [
    "header.length",
    withComponent("HEADER", { type: "HEADER", format: "TEXT", text: "x".repeat(61) }),
    withComponent("HEADER", { type: "HEADER", format: "TEXT", text: "x".repeat(60) }),
  ],
  [
    "header.variables",
    withComponent("HEADER", {
      type: "HEADER",
      format: "TEXT",
      text: "Order {{1}} for {{2}}",
      example: { header_text: ["A-1", "Ana"] },
    }),
    withComponent("HEADER", {
      type: "HEADER",
      format: "TEXT",
      text: "Order {{1}} shipped",
      example: { header_text: ["A-1"] },
    }),
  ],
  [
    "samples.missing",
    withComponent("HEADER", { type: "HEADER", format: "TEXT", text: "Order {{1}} shipped" }),
    withComponent("HEADER", {
      type: "HEADER",
      format: "TEXT",
      text: "Order {{1}} shipped",
      example: { header_text: ["A-1"] },
    }),
  ],
  [
    "header.newline",
    withComponent("HEADER", { type: "HEADER", format: "TEXT", text: "Your order\nis here" }),
    withComponent("HEADER", { type: "HEADER", format: "TEXT", text: "Your order is here" }),
  ],
  [
    "header.format",
    withComponent("HEADER", { type: "HEADER", format: "GIF" }),
    withComponent("HEADER", { type: "HEADER", format: "LOCATION" }),
  ],
  [
    "header.media_example",
    withComponent("HEADER", { type: "HEADER", format: "IMAGE" }),
    withComponent("HEADER", { type: "HEADER", format: "IMAGE", example: { header_handle: ["4::aW1hZ2U="] } }),
  ],
  [
    "footer.length",
    withComponent("FOOTER", { type: "FOOTER", text: "f".repeat(61) }),
    withComponent("FOOTER", { type: "FOOTER", text: "f".repeat(60) }),
  ],
  [
    "footer.variables",
    withComponent("FOOTER", { type: "FOOTER", text: "Sent to {{1}}" }),
    withComponent("FOOTER", { type: "FOOTER", text: "Sent by Acme Shoes" }),
  ],
  [
    "buttons.count",
    buttons(...Array.from({ length: 11 }, (_, i) => qr(`Option ${i + 1}`))),
    buttons(...Array.from({ length: 10 }, (_, i) => qr(`Option ${i + 1}`))),
  ],
  ["buttons.text", buttons(qr("This label is far too long for it")), buttons(qr("A short label"))],
  ["buttons.text", buttons(qr("")), buttons(qr("Yes"))],
  ["buttons.duplicate", buttons(qr("Yes"), qr("yes")), buttons(qr("Yes"), qr("No"))],
  ["buttons.type", buttons({ type: "SMOKE_SIGNAL", text: "Puff" }), buttons(qr("Puff"))],
  ["buttons.url_count", buttons(url("Site"), url("Shop"), url("Blog")), buttons(url("Site"), url("Shop"))],
  [
    "buttons.phone_count",
    buttons(
      { type: "PHONE_NUMBER", text: "Call us", phone_number: "+34600111222" },
      { type: "PHONE_NUMBER", text: "Call again", phone_number: "+34600111333" },
    ),
    buttons({ type: "PHONE_NUMBER", text: "Call us", phone_number: "+34600111222" }),
  ],
  [
    "buttons.phone",
    buttons({ type: "PHONE_NUMBER", text: "Call us", phone_number: "call me maybe" }),
    buttons({ type: "PHONE_NUMBER", text: "Call us", phone_number: "+34 600 111 222" }),
  ],
  [
    "buttons.copy_code_count",
    withComponent(
      "BUTTONS",
      {
        type: "BUTTONS",
        buttons: [
          { type: "COPY_CODE", example: "SAVE20" },
          { type: "COPY_CODE", example: "SAVE30" },
        ],
      },
      { category: "MARKETING" },
    ),
    withComponent(
      "BUTTONS",
      { type: "BUTTONS", buttons: [{ type: "COPY_CODE", example: "SAVE20" }] },
      { category: "MARKETING" },
    ),
  ],
  [
    "buttons.copy_code_example",
    withComponent(
      "BUTTONS",
      { type: "BUTTONS", buttons: [{ type: "COPY_CODE" }] },
      { category: "MARKETING" },
    ),
    withComponent(
      "BUTTONS",
      { type: "BUTTONS", buttons: [{ type: "COPY_CODE", example: "SAVE20" }] },
      { category: "MARKETING" },
    ),
  ],
  ["buttons.grouping", buttons(qr("Yes"), url("Site"), qr("No")), buttons(qr("Yes"), qr("No"), url("Site"))],
  ["buttons.url", buttons(url("Site", "shop.example.com")), buttons(url("Site", "https://shop.example.com"))],
  [
    "buttons.url",
    buttons(url("Site", "https://shop.example.com/" + "a".repeat(2000))),
    buttons(url("Site", "https://shop.example.com/" + "a".repeat(1900))),
  ],
  [
    "buttons.url_variable",
    buttons(url("Track", "https://shop.example.com/{{1}}/track", "https://shop.example.com/A-1/track")),
    buttons(url("Track", "https://shop.example.com/track/{{1}}", "https://shop.example.com/track/A-1")),
  ],
  [
    "samples.missing",
    buttons(url("Track", "https://shop.example.com/track/{{1}}")),
    buttons(url("Track", "https://shop.example.com/track/{{1}}", "https://shop.example.com/track/A-1")),
  ],
  ["buttons.otp", buttons({ type: "OTP", otp_type: "COPY_CODE" }), buttons(qr("OK"))],
  [
    "authentication.body",
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY", text: "Your code is {{1}} for the shop.", add_security_recommendation: true },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE", text: "Copy code" }] },
      ],
    },
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY", add_security_recommendation: true },
        { type: "FOOTER", code_expiration_minutes: 10 },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE", text: "Copy code" }] },
      ],
    },
  ],
  [
    "authentication.header",
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "HEADER", format: "TEXT", text: "Your code" },
        { type: "BODY", add_security_recommendation: true },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE" }] },
      ],
    },
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY", add_security_recommendation: true },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE" }] },
      ],
    },
  ],
  [
    "authentication.buttons",
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [{ type: "BODY", add_security_recommendation: true }],
    },
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY", add_security_recommendation: true },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE" }] },
      ],
    },
  ],
  [
    "authentication.expiry",
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY" },
        { type: "FOOTER", code_expiration_minutes: 120 },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE" }] },
      ],
    },
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY" },
        { type: "FOOTER", code_expiration_minutes: 90 },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE" }] },
      ],
    },
  ],
  [
    "authentication.otp_app",
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [{ type: "BODY" }, { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "ONE_TAP" }] }],
    },
    {
      name: "login_code",
      category: "AUTHENTICATION",
      language: "en_US",
      components: [
        { type: "BODY" },
        {
          type: "BUTTONS",
          buttons: [
            {
              type: "OTP",
              otp_type: "ONE_TAP",
              supported_apps: [{ package_name: "com.example.shop", signature_hash: "K8a/AINcGX7" }],
            },
          ],
        },
      ],
    },
  ],
];

/** Warnings: [rule, a template that earns it, one that does not]. */
const WARNINGS: [string, TemplateInput, TemplateInput][] = [
  [
    "variables.ratio",
    body("Dear {{1}}, order {{2}} for {{3}} by {{4}} now.", ["Ana", "A-1", "shoes", "Monday"]),
    body("Dear {{1}}, your order {{2}} for {{3}} will be delivered by {{4}} at the latest.", [
      "Ana",
      "A-1",
      "shoes",
      "Monday",
    ]),
  ],
  [
    "category.promotional",
    body("Hi {{1}}, our summer sale is on: 20% off every pair of shoes this week.", ["Ana"]),
    body("Hi {{1}}, your return was received and your refund is on its way to you.", ["Ana"]),
  ],
  [
    "category.promotional",
    body("Hola {{1}}, aprovecha nuestras rebajas en toda la tienda hasta el domingo.", ["Ana"]),
    body("Hola {{1}}, tu pedido ha sido enviado y llegará en tres días.", ["Ana"]),
  ],
  [
    "variables.edges",
    body("Your order has shipped and arrives very soon, {{1}}.", ["Ana"]),
    body("Your order has shipped and arrives very soon, {{1}}. Thank you!", ["Ana"]),
  ],
  [
    "variables.order",
    body("Hi {{2}}, your order {{1}} has shipped and arrives soon.", ["A-1", "Ana"]),
    body("Hi {{1}}, your order {{2}} has shipped and arrives soon.", ["Ana", "A-1"]),
  ],
  ["buttons.copy_code_utility", buttons({ type: "COPY_CODE", example: "RETURN1" }), buttons(qr("Thanks"))],
];

const rulesOf = (t: TemplateInput, severity: "error" | "warning") =>
  lintTemplate(t)
    .filter((i) => i.severity === severity)
    .map((i) => i.rule);

describe("lintTemplate", () => {
  it("finds nothing wrong with a template Meta accepts", () => {
    expect(lintTemplate(base())).toEqual([]);
  });

  it.each(CASES)("error %s: fails the bad template, passes the fixed one", (rule, bad, good) => {
    const found = lintTemplate(bad);
    expect(
      found.filter((i) => i.severity === "error").map((i) => i.rule),
      JSON.stringify(found),
    ).toContain(rule);
    const after = lintTemplate(good);
    expect(
      after.filter((i) => i.severity === "error"),
      JSON.stringify(after),
    ).toEqual([]);
  });

  it.each(WARNINGS)("warning %s: warns about the risky template, not the other", (rule, risky, fine) => {
    const found = lintTemplate(risky);
    expect(rulesOf(risky, "warning"), JSON.stringify(found)).toContain(rule);
    expect(rulesOf(risky, "error"), JSON.stringify(found)).toEqual([]);
    expect(lintTemplate(fine), JSON.stringify(lintTemplate(fine))).toEqual([]);
  });

  it("explains problems in words a person understands", () => {
    const [gap] = lintTemplate(body("Hi {{1}}, your order {{3}} has shipped today, see you.", ["a", "b"]));
    expect(gap.message).toBe(
      "Variables must be numbered 1, 2, 3 without gaps: {{3}} follows {{1}} in the body",
    );
    const [name] = lintTemplate(base({ name: "Pedido Enviado" }));
    expect(name.message).toContain('"pedido_enviado"');
    const promo = lintTemplate(body("Hi {{1}}, get 20% off all shoes in our sale this week.", ["Ana"]));
    expect(promo.map((i) => i.message).join()).toMatch(/Meta may re-categorise it as Marketing/);
  });

  it("numbers the header's variables on their own, and accepts named variables throughout", () => {
    const named: TemplateInput = {
      name: "order_ready",
      category: "UTILITY",
      language: "es_ES",
      parameter_format: "NAMED",
      components: [
        {
          type: "HEADER",
          format: "TEXT",
          text: "Pedido {{order_id}}",
          example: { header_text_named_params: [{ param_name: "order_id", example: "A-1" }] },
        },
        {
          type: "BODY",
          text: "Hola {{first_name}}, tu pedido está listo para recoger en la tienda.",
          example: { body_text_named_params: [{ param_name: "first_name", example: "Ana" }] },
        },
        {
          type: "BUTTONS",
          buttons: [
            {
              type: "URL",
              text: "Ver pedido",
              url: "https://shop.example.com/o/{{1}}",
              example: ["https://shop.example.com/o/A-1"],
            },
            { type: "PHONE_NUMBER", text: "Llamar", phone_number: "+34600111222" },
          ],
        },
      ],
    };
    expect(lintTemplate(named)).toEqual([]);
  });

  it("never throws on malformed input", () => {
    for (const junk of [
      {},
      { name: 3, category: null, language: [], components: "x" },
      {
        name: "a",
        category: "UTILITY",
        language: "en",
        components: [null, 1, "BODY", { type: "BODY", text: 5 }],
      },
    ]) {
      expect(() => lintTemplate(junk as never)).not.toThrow();
      expect(lintTemplate(junk as never).some((i) => i.severity === "error")).toBe(true);
    }
  });
});
