import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, test } from "vitest";
import { importedDriverText } from "./import.ts";
import { loadDriverFile, parseDriverText } from "./load.ts";
import { parseGoDuration } from "./upstream.ts";

const work = mkdtempSync(join(tmpdir(), "volcert-upstream-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  writeFileSync(join(work, name), text);
  return join(work, name);
};

describe("upstream storage.testdriver files", () => {
  test("Go durations are parsed as time.ParseDuration does", () => {
    expect(parseGoDuration("5m")).toBe(300_000);
    expect(parseGoDuration("1h30m")).toBe(5_400_000);
    expect(parseGoDuration("1.5s")).toBe(1500);
    expect(parseGoDuration("300ms")).toBe(300);
    expect(parseGoDuration("0")).toBe(0);
    for (const bad of ["5 minutes", "300", "", "5x", "m"]) expect(parseGoDuration(bad), bad).toBeNull();
  });

  test("upstream's defaults: 5Gi minimum size, no dynamic provisioning without a class, expansion flags", () => {
    const { definition } = parseDriverText(
      "DriverInfo:\n  Name: csi.acme.example.com\n  Capabilities: { persistence: true, controllerExpansion: true, offlineExpansion: false }\n",
      "t.yaml",
    );
    expect(definition.spec.sizeRange.min).toBe("5Gi");
    expect(definition.spec.storageClasses).toEqual([]);
    expect(definition.spec.capabilities).toMatchObject({ onlineExpansion: true, offlineExpansion: false });
    expect(definition.spec.csi?.manifests).toEqual([]);
    expect(definition.spec.csi?.node).toBeUndefined();
  });

  test("StorageClass.FromName makes a class of volcert's own name with the driver as provisioner", () => {
    const { definition } = parseDriverText(
      "StorageClass: { FromName: true }\nDriverInfo: { Name: csi.acme.example.com }\n",
      "t.yaml",
    );
    expect(definition.spec.storageClasses).toMatchObject([
      { name: "volcert-csi-acme-example-com", provisioner: "csi.acme.example.com", parameters: {} },
    ]);
  });

  test("StorageClass.FromFile is read (parameters, binding mode) and must be one class of this driver", async () => {
    write(
      "sc.yaml",
      "kind: StorageClass\nprovisioner: csi.acme.example.com\nvolumeBindingMode: WaitForFirstConsumer\nparameters: { tier: fast }\n",
    );
    const ok = await loadDriverFile(
      write("td.yaml", "StorageClass: { FromFile: sc.yaml }\nDriverInfo: { Name: csi.acme.example.com }\n"),
    );
    expect(ok.definition.spec.storageClasses).toMatchObject([
      { name: "volcert-csi-acme-example-com", volumeBindingMode: "WaitForFirstConsumer", parameters: { tier: "fast" } },
    ]);
    write("other.yaml", "kind: StorageClass\nprovisioner: ebs.csi.aws.com\n");
    await expect(
      loadDriverFile(
        write("td2.yaml", "StorageClass: { FromFile: other.yaml }\nDriverInfo: { Name: csi.acme.example.com }\n"),
      ),
    ).rejects.toThrow(/provisioner "ebs\.csi\.aws\.com" is not DriverInfo\.Name/);
    await expect(
      loadDriverFile(
        write("td3.yaml", "StorageClass: { FromFile: /etc/hostname }\nDriverInfo: { Name: csi.acme.example.com }\n"),
      ),
    ).rejects.toThrow(/must be relative/);
  });

  test("drivers import writes a volcert file that validates, keeps the mapping and says what to complete", async () => {
    const loaded = await loadDriverFile(
      write(
        "imp.yaml",
        'DriverInfo:\n  Name: csi.acme.example.com\n  FeatureTag: "[Feature:acme]"\n  Capabilities: { persistence: true }\nTimeouts: { PodStart: 6m }\n',
      ),
    );
    const text = importedDriverText(loaded);
    expect(text).toMatch(/# note: DriverInfo\.FeatureTag/);
    expect(text).toMatch(/# {3}manifests: \[/);
    const again = parseDriverText(text, "imported.yaml");
    expect(again.format).toBe("volcert");
    expect(again.definition.spec.timeouts.podStart).toBe("6m");
    expect((parse(text) as { spec: { csi: object } }).spec.csi).toEqual({ driverName: "csi.acme.example.com" });
  });
});
