import { describe, expect, it } from "vitest";
import { FrameStorage } from "../../local/convex-server/frames";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe("FrameStorage (many async-local values on one AsyncLocalStorage)", () => {
  it("keeps each storage's value across awaits, timers and nested runs", async () => {
    const a = new FrameStorage<string>();
    const b = new FrameStorage<number>();
    expect(a.getStore()).toBeUndefined();
    await a.run("outer", async () => {
      await tick();
      expect(a.getStore()).toBe("outer");
      expect(b.getStore()).toBeUndefined();
      await b.run(1, async () => {
        await tick();
        expect([a.getStore(), b.getStore()]).toEqual(["outer", 1]);
        await a.run("inner", async () => {
          await tick();
          expect([a.getStore(), b.getStore()]).toEqual(["inner", 1]);
        });
        expect([a.getStore(), b.getStore()]).toEqual(["outer", 1]);
      });
      expect(b.getStore()).toBeUndefined();
      const later = await new Promise((resolve) => setTimeout(() => resolve(a.getStore()), 1));
      expect(later).toBe("outer");
    });
    expect(a.getStore()).toBeUndefined();
  });

  it("keeps concurrent runs apart", async () => {
    const a = new FrameStorage<number>();
    const seen = await Promise.all(
      [1, 2, 3].map((n) =>
        a.run(n, async () => {
          const values: (number | undefined)[] = [];
          for (let i = 0; i < 3; i++) {
            await tick();
            values.push(a.getStore());
          }
          return values;
        }),
      ),
    );
    expect(seen).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ]);
  });

  it("exit unsets one storage only, for what runs inside it, and passes arguments", async () => {
    const a = new FrameStorage<string>();
    const b = new FrameStorage<string>();
    await a.run("a", () =>
      b.run("b", async () => {
        const inside = await a.exit(async (x: number) => {
          await tick();
          return [a.getStore(), b.getStore(), x];
        }, 7);
        expect(inside).toEqual([undefined, "b", 7]);
        expect([a.getStore(), b.getStore()]).toEqual(["a", "b"]);
      }),
    );
    expect(a.exit(() => "no frame")).toBe("no frame");
    expect(a.run("x", (y: number) => y + 1, 1)).toBe(2);
  });
});
