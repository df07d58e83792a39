// Pictures are scaled down in the browser to the model's pixel budget before they are sent,
// so a phone photo does not cost a 413 or a minute of encoding on the server.
export async function imageDataUrl(file: File, maxPixels: number): Promise<string> {
  const bitmap = await createImageBitmap(file);
  const pixels = bitmap.width * bitmap.height;
  const scale = maxPixels > 0 && pixels > maxPixels ? Math.sqrt(maxPixels / pixels) : 1;
  const width = Math.max(1, Math.floor(bitmap.width * scale));
  const height = Math.max(1, Math.floor(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser cannot draw on a canvas");
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return canvas.toDataURL(file.type === "image/png" ? "image/png" : "image/jpeg", 0.9);
}

export async function audioPart(file: File): Promise<{ data: string; format: string }> {
  const format = /\.(wav|mp3|flac)$/i.exec(file.name)?.[1]?.toLowerCase() ?? file.type.replace("audio/", "").replace("mpeg", "mp3");
  if (!["wav", "mp3", "flac"].includes(format)) throw new Error(`${file.name}: audio must be wav, mp3 or flac`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { data: btoa(binary), format };
}
