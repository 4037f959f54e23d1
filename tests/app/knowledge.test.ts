// The offline answerer picks a shoe shop's knowledge-base entry for customers' questions in
// English, Spanish and Portuguese (paraphrases, typos, plurals, any word order), and answers
// nothing rather than something wrong when the question is not covered.
import { describe, expect, it } from "vitest";
import { findAnswer, type KnowledgeEntry } from "../../convex/model/knowledge";

/**
 * The knowledge base of a shoe shop in São Paulo that sells online to Brazil and its neighbours,
 * written the way a shop owner writes one: English entries, a few tags in the customers' languages.
 */
const SHOE_SHOP: KnowledgeEntry[] = [
  {
    id: "hours",
    title: "Opening hours",
    body: "Our store on Rua Augusta is open Monday to Saturday from 10:00 to 20:00 and on Sundays from 11:00 to 18:00. We are closed on public holidays.",
    tags: ["schedule"],
  },
  {
    id: "address",
    title: "Store address and directions",
    body: "You can find us at Rua Augusta 1200, São Paulo, two blocks from Consolação metro station. The mall garage across the street has parking.",
    tags: ["location", "endereço", "dirección"],
  },
  {
    id: "delivery-times",
    title: "Shipping and delivery times",
    body: "We ship nationwide with a tracked courier. Orders placed before 14:00 leave the same day. Delivery takes 2 to 5 business days in capitals and up to 10 business days elsewhere.",
    tags: ["envío", "frete", "prazo de entrega"],
  },
  {
    id: "free-shipping",
    title: "Free shipping",
    body: "Shipping is free on orders over R$ 299. Below that, the shipping cost is calculated at checkout from your postcode.",
  },
  {
    id: "international",
    title: "International shipping",
    body: "We ship to Argentina, Chile, Uruguay and Portugal. International orders take 7 to 15 business days and import duties are paid by the customer.",
  },
  {
    id: "tracking",
    title: "Tracking your order",
    body: "When your order leaves the warehouse we send you a tracking code by WhatsApp and email. Follow the package on the courier's website with that code.",
  },
  {
    id: "returns",
    title: "Returns and refunds",
    body: "You can return unworn shoes within 30 days of delivery for a full refund. Start the return from your order page; the money goes back to your original payment method within 5 to 7 business days after we receive the pair.",
    tags: ["devolución", "devolução", "reembolso"],
  },
  {
    id: "exchanges",
    title: "Exchanging for a different size",
    body: "Need another size? Exchanges are free within 30 days. Send the unworn pair back with the exchange form and we ship the new size as soon as it arrives.",
  },
  {
    id: "size-guide",
    title: "Size guide",
    body: "Our shoes follow Brazilian sizing, BR 33 to 46. Measure your foot in centimetres and compare with the size chart on each product page. Between two sizes, choose the larger one.",
    tags: ["tabla de tallas", "tabela de medidas", "measurements"],
  },
  {
    id: "wide-feet",
    title: "Wide and narrow feet",
    body: "Most running shoes come in a wide version marked 2E. Leather boots stretch a little after a few days of use.",
  },
  {
    id: "payment",
    title: "Payment methods",
    body: "We accept credit and debit cards (Visa, Mastercard, Elo, Amex), Pix and boleto. Credit card purchases can be split into up to 6 interest-free installments.",
  },
  {
    id: "prices",
    title: "Prices and price match",
    body: "All prices on the website include taxes. If you find the same model cheaper at an authorised Brazilian retailer, send us the link and we match the price.",
  },
  {
    id: "discounts",
    title: "Discount codes and promotions",
    body: "Sign up to our newsletter for a 10% coupon on your first purchase. One discount code per order; codes do not apply to items already on sale.",
  },
  {
    id: "restock",
    title: "Sold out sizes and restocks",
    body: "If a size is sold out, tap 'Notify me' on the product page and we will message you when it is back in stock. We restock every two weeks.",
  },
  {
    id: "warranty",
    title: "Warranty and manufacturing defects",
    body: "All shoes have a 90-day warranty against manufacturing defects such as soles coming unglued or broken stitching. Send us photos of the defect and your order number.",
    tags: ["garantia"],
  },
  {
    id: "care",
    title: "Caring for your shoes",
    body: "Clean leather and suede with a soft dry brush and apply conditioner once a month. Never put leather or suede in the washing machine; canvas sneakers can be hand washed in cold water.",
  },
  {
    id: "cancel-order",
    title: "Changing or cancelling an order",
    body: "You can cancel or change an order until it leaves our warehouse, usually within 2 hours of purchase. After that, wait for the delivery and request a return.",
  },
  {
    id: "pickup",
    title: "Click and collect",
    body: "Choose 'Pick up in store' at checkout and collect your order at Rua Augusta within 7 days. Bring an ID document and the order number.",
  },
  {
    id: "gift-cards",
    title: "Gift cards",
    body: "Gift cards from R$ 50 to R$ 1,000 are sold in the store and online. They are valid for 12 months and work on any product.",
  },
  {
    id: "kids",
    title: "Kids' shoes",
    body: "We carry children's shoes from size 18 to 34, including school shoes and light-up sneakers. Kids' shoes can be exchanged within 60 days.",
  },
  {
    id: "contact",
    title: "Contact us",
    body: "Call us at +55 11 3000-1234, Monday to Friday from 9:00 to 18:00, or write to ajuda@passofirme.com.br.",
    tags: ["phone", "email"],
  },
  {
    id: "vegan",
    title: "Vegan shoes",
    body: "Our Verde line uses no animal materials: uppers are made from recycled PET and the soles from natural rubber.",
  },
  {
    id: "invoice",
    title: "Invoices (nota fiscal)",
    body: "An electronic invoice (NF-e) is emailed with every order. If you need it issued to your company's CNPJ, tell us before the order ships.",
  },
];

/** [question, the entry that answers it] */
const ANSWERED: Record<string, [string, string][]> = {
  "en: paraphrases": [
    ["What time do you open on Sunday?", "hours"],
    ["when are you open", "hours"],
    ["are you open on holidays", "hours"],
    ["what time do you close on saturday", "hours"],
    ["open on sunday?", "hours"],
    ["where is your shop", "address"],
    ["where can I find you", "address"],
    ["hello, i'd like to know your address please", "address"],
    ["is parking available", "address"],
    ["how long does delivery take", "delivery-times"],
    ["how long does shipping take", "delivery-times"],
    ["is shipping free?", "free-shipping"],
    ["do you have free delivery", "free-shipping"],
    ["do you ship to Chile", "international"],
    ["do you ship internationally", "international"],
    ["where is my order", "tracking"],
    ["my package never arrived", "tracking"],
    ["how do I get a refund", "returns"],
    ["i want my money back", "returns"],
    ["how many days do I have to return shoes", "returns"],
    [
      "Hi! I bought sneakers last week and they are too small, can I exchange them for a bigger size?",
      "exchanges",
    ],
    ["what size should I buy", "size-guide"],
    ["how do i measure my foot", "size-guide"],
    ["what payment methods do you accept", "payment"],
    ["can I pay with paypal", "payment"],
    ["how much do the shoes cost", "prices"],
    ["do you have discount codes", "discounts"],
    ["when will you restock", "restock"],
    ["size 42 is sold out, will it come back", "restock"],
    ["my shoes are broken", "warranty"],
    ["my shoe sole came off", "warranty"],
    ["how do I clean suede", "care"],
    ["can I cancel my order", "cancel-order"],
    ["can I pick up in the store", "pickup"],
    ["children's shoes", "kids"],
    ["phone number", "contact"],
    ["vegan shoes?", "vegan"],
    ["I need an invoice for my company", "invoice"],
    ["i need a receipt", "invoice"],
  ],
  "es: paraphrases": [
    ["¿A qué hora abren?", "hours"],
    ["¿abren los domingos?", "hours"],
    ["horario de apertura", "hours"],
    ["¿Dónde están ubicados?", "address"],
    ["Dirección de la tienda", "address"],
    ["¿Cuánto tarda el envío?", "delivery-times"],
    ["¿El envío es gratis?", "free-shipping"],
    ["¿Hacen envíos al extranjero?", "international"],
    ["¿Dónde está mi pedido?", "tracking"],
    ["el pedido no llegó", "tracking"],
    ["quiero devolver unos zapatos", "returns"],
    ["¿Puedo cambiar la talla?", "exchanges"],
    ["hola, compré unas zapatillas y me quedan chicas, ¿las puedo cambiar?", "exchanges"],
    ["tabla de tallas", "size-guide"],
    ["¿Puedo pagar con tarjeta?", "payment"],
    ["formas de pago", "payment"],
    ["¿Cuánto cuestan?", "prices"],
    ["tienen cupones de descuento", "discounts"],
    ["¿Cuándo vuelve a estar disponible?", "restock"],
    ["tienen garantía?", "warranty"],
    ["¿Se pueden lavar en lavadora?", "care"],
    ["cómo cuido mis zapatos de cuero", "care"],
    ["quiero cancelar mi pedido", "cancel-order"],
    ["¿Venden tarjetas de regalo?", "gift-cards"],
    ["tienen zapatos para niños", "kids"],
    ["¿Cuál es su teléfono?", "contact"],
    ["zapatos veganos", "vegan"],
  ],
  "pt: paraphrases": [
    ["Qual o horário de funcionamento da loja?", "hours"],
    ["Qual é o endereço?", "address"],
    ["onde fica a loja", "address"],
    ["onde vocês ficam?", "address"],
    ["Quanto tempo demora a entrega?", "delivery-times"],
    ["qual o prazo de entrega?", "delivery-times"],
    ["O frete é grátis?", "free-shipping"],
    ["Vocês enviam para Portugal?", "international"],
    ["Como rastrear meu pedido?", "tracking"],
    ["o pedido não chegou", "tracking"],
    ["Como faço uma devolução?", "returns"],
    ["quero trocar o tamanho", "exchanges"],
    ["oi, comprei um tênis e ficou pequeno, posso trocar?", "exchanges"],
    ["tabela de medidas", "size-guide"],
    ["Aceitam pix?", "payment"],
    ["posso parcelar?", "payment"],
    ["pagar com cartão de crédito", "payment"],
    ["Quanto custa?", "prices"],
    ["tem cupom de desconto?", "discounts"],
    ["o sapato descolou", "warranty"],
    ["posso lavar o tênis na máquina?", "care"],
    ["como limpar sapato de couro", "care"],
    ["retirar na loja", "pickup"],
    ["vale presente", "gift-cards"],
    ["tem sapato infantil?", "kids"],
    ["preciso da nota fiscal", "invoice"],
  ],
  typos: [
    ["shiping time", "delivery-times"],
    ["adress?", "address"],
    ["retrun policy", "returns"],
    ["refnd", "returns"],
    ["devolucon", "returns"],
    ["devolusion", "returns"],
    ["paymnet options", "payment"],
    ["horaio de funcionamento", "hours"],
    ["garantai", "warranty"],
  ],
  "plural and singular": [
    ["refunds", "returns"],
    ["refund", "returns"],
    ["gift card", "gift-cards"],
    ["gift cards", "gift-cards"],
    ["installment", "payment"],
    ["installments", "payment"],
    ["coupon", "discounts"],
    ["coupons", "discounts"],
    ["size", "size-guide"],
    ["sizes", "size-guide"],
  ],
  "word order": [
    ["opening hours", "hours"],
    ["hours opening", "hours"],
    ["delivery time how long", "delivery-times"],
    ["how long delivery time", "delivery-times"],
    ["price match", "prices"],
    ["match price", "prices"],
  ],
};

/** Questions the shop's knowledge base does not answer. */
const UNANSWERED = [
  "what's the weather on mars",
  "weather",
  "asdf",
  "hi",
  "hello!",
  "thanks",
  "good morning",
  "buenos días",
  "ola tudo bem",
  "🙂",
  "",
  "   ",
  "who won the football game yesterday",
  "what time is it",
  "what time is it in Tokyo",
  "tell me a joke",
  "do you sell cars",
  "do you sell pizza",
  "I love you",
  "how much is a ticket to Paris",
  "what is the meaning of life",
  "can you recommend a good restaurant",
  "¿Cuál es la capital de Francia?",
  "Qual é a receita de bolo de cenoura?",
  // Half of these questions is shop vocabulary; the other half is what they are about.
  "how much does a coffee cost",
  "what is the price of bitcoin",
  "is the metro open at night",
  "is the park open today",
  "do you ship pianos",
  "what's the capital of Chile",
  "where do penguins live",
  "how long does it take to fly to Lisbon",
  "what is the capital of France",
  "¿dónde queda el hospital?",
  "quanto custa um carro",
];

describe("findAnswer", () => {
  for (const [group, cases] of Object.entries(ANSWERED)) {
    it.each(cases)(`${group}: %j → %s`, (question, id) => {
      const answer = findAnswer(question, SHOE_SHOP);
      expect(answer?.id).toBe(id);
      expect(answer!.score).toBeGreaterThan(0);
      expect(answer!.score).toBeLessThanOrEqual(1);
    });
  }

  it.each(UNANSWERED)("has no answer for %j", (question) => {
    expect(findAnswer(question, SHOE_SHOP)).toBeNull();
  });

  it("answers a question it could not answer once an entry covers it", () => {
    expect(findAnswer("what's your instagram", SHOE_SHOP)).toBeNull();
    const instagram = {
      id: "social",
      title: "Instagram and social media",
      body: "Follow us on Instagram: @passofirme.",
    };
    expect(findAnswer("what's your instagram", [...SHOE_SHOP, instagram])?.id).toBe("social");
  });

  it("scores a clean question above a misspelt one, and both in [0, 1]", () => {
    const clean = findAnswer("return policy", SHOE_SHOP)!;
    const typo = findAnswer("retrun policy", SHOE_SHOP)!;
    expect(clean.id).toBe("returns");
    expect(typo.id).toBe("returns");
    expect(clean.score).toBeGreaterThan(typo.score);
    expect(clean.score).toBeLessThanOrEqual(1);
    expect(typo.score).toBeGreaterThan(0);
  });

  it("does not care about word order", () => {
    const question = ["can", "I", "exchange", "my", "shoes", "for", "a", "bigger", "size"];
    const expected = findAnswer(question.join(" "), SHOE_SHOP);
    expect(expected?.id).toBe("exchanges");
    for (let shift = 1; shift < question.length; shift++) {
      const rotated = [...question.slice(shift), ...question.slice(0, shift)].join(" ");
      expect(findAnswer(rotated, SHOE_SHOP), rotated).toEqual(expected);
    }
  });

  it("weighs the title above the body", () => {
    const entries: KnowledgeEntry[] = [
      { id: "mentions", title: "Visiting us", body: "The mall has parking for customers on floors 2 and 3." },
      { id: "about", title: "Parking", body: "Customers park for free on floors 2 and 3 of the mall." },
    ];
    expect(findAnswer("parking", entries)?.id).toBe("about");
    expect(findAnswer("parking", [...entries].reverse())?.id).toBe("about");
  });

  it("finds an entry written in another language through shared vocabulary", () => {
    const spanish: KnowledgeEntry[] = [
      { id: "horario", title: "Horario de atención", body: "Abrimos de lunes a viernes de 9 a 18 horas." },
      { id: "envios", title: "Envíos", body: "Hacemos envíos a todo el país en 48 horas." },
    ];
    expect(findAnswer("what are your opening hours?", spanish)?.id).toBe("horario");
    expect(findAnswer("do you ship?", spanish)?.id).toBe("envios");
    expect(findAnswer("quando vocês entregam?", spanish)?.id).toBe("envios");
  });

  it("is deterministic, and gives a tie to the earlier entry", () => {
    const first = findAnswer("¿Cuánto tarda el envío?", SHOE_SHOP);
    expect(findAnswer("¿Cuánto tarda el envío?", SHOE_SHOP)).toEqual(first);
    const twin = (id: string): KnowledgeEntry => ({
      id,
      title: "Gift wrapping",
      body: "We wrap gifts for free.",
    });
    expect(findAnswer("gift wrapping", [twin("a"), twin("b")])?.id).toBe("a");
    expect(findAnswer("gift wrapping", [twin("b"), twin("a")])?.id).toBe("b");
  });

  it("answers nothing from an empty knowledge base", () => {
    expect(findAnswer("opening hours", [])).toBeNull();
  });

  it("refuses malformed input", () => {
    expect(() => findAnswer(3 as unknown as string, SHOE_SHOP)).toThrow(TypeError);
    expect(() => findAnswer("hours", null as unknown as KnowledgeEntry[])).toThrow(TypeError);
    expect(() => findAnswer("hours", [{ id: "x", title: "Hours" } as KnowledgeEntry])).toThrow(/entry 0/);
    expect(() =>
      findAnswer("hours", [{ id: "x", title: "Hours", body: "", tags: [1] } as unknown as KnowledgeEntry]),
    ).toThrow(TypeError);
  });
});
