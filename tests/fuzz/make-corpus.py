#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/ (kept in the repo).

The seeds are the inputs the tests use, made small: request bodies like the server tests send,
tiny images and audio, a GGUF header with a vocabulary and a template, prefix-cache files, MCP
messages, SSE streams, web pages. Run it again after changing a seed list (it rewrites only the
seeds it makes, named seed-*; inputs merged in by bench/fuzz/run.sh keep their hash names).
Needs Debian's python3 with python3-pil and python3-numpy (/usr/bin/python3).
"""
import base64, io, json, os, struct, sys, wave

import numpy as np
from PIL import Image

root = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.environ.get("MUSE_LLAMA_CPP_DIR", os.path.join(root, "../../.deps/llama.cpp")), "gguf-py"))


def put(target, name, data):
    d = os.path.join(root, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    elif not isinstance(data, (bytes, bytearray)):
        data = json.dumps(data).encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- media --------------------------------------------------------------------------------
def img(fmt, w=8, h=6, mode="RGB", **kw):
    a = (np.arange(w * h * 3).reshape(h, w, 3) * 7 % 256).astype(np.uint8)
    im = Image.fromarray(a, "RGB").convert(mode)
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def wav(rate=16000, secs=0.05, channels=1, width=2):
    b = io.BytesIO()
    with wave.open(b, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        n = int(rate * secs)
        t = np.arange(n) / rate
        s = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
        if width == 1:
            s = ((s >> 8) + 128).astype(np.uint8)
        w.writeframes(np.repeat(s, channels).tobytes())
    return b.getvalue()


def flac_header():
    # "fLaC" and a STREAMINFO block (16 kHz, mono, 16 bits, 800 samples), no frames.
    info = struct.pack(">HH", 4096, 4096) + b"\0\0\0" + b"\0\0\0"
    packed = (16000 << 44) | (0 << 41) | (15 << 36) | 800
    info += packed.to_bytes(8, "big") + b"\0" * 16
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info


def mp3_frames(n=3):
    # MPEG-1 layer III, 128 kbit/s, 44.1 kHz frames of silence (417 bytes each).
    head = bytes([0xFF, 0xFB, 0x90, 0x64])
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + (head + b"\0" * 413) * n


media = {
    "png": img("PNG"), "png-gray": img("PNG", mode="L"), "png-rgba": img("PNG", mode="RGBA"),
    "png-palette": img("PNG", mode="P"), "jpeg": img("JPEG", quality=50), "jpeg-progressive": img("JPEG", progressive=True),
    "gif": img("GIF"), "bmp": img("BMP"), "bmp-gray": img("BMP", mode="L"),
    "wav": wav(), "wav-stereo-8bit": wav(8000, 0.05, 2, 1), "flac-header": flac_header(), "mp3": mp3_frames(),
    "webp": b"RIFF\x1a\x00\x00\x00WEBPVP8 ", "tiff": b"II*\x00\x08\x00\x00\x00",
}
for k, v in media.items():
    put("media_sniff", k, v)

# --- request bodies ---------------------------------------------------------------------------
png_url = "data:image/png;base64," + base64.b64encode(media["png"]).decode()
wav_b64 = base64.b64encode(media["wav"]).decode()
weather = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]}
oa_tool = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": weather}}
ask = [{"role": "user", "content": "Hello"}]
openai = {
    "hello": {"model": "muse", "messages": ask, "max_tokens": 24, "seed": 1},
    "system": {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "temperature": 0},
    "sampling": {"messages": ask, "max_tokens": 12, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
                 "seed": 3, "stop": ["\n", "END"], "n": 2, "presence_penalty": 0.5, "frequency_penalty": 0.1},
    "stream": {"messages": ask, "stream": True, "stream_options": {"include_usage": True}, "logprobs": True, "top_logprobs": 2},
    "tools": {"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [oa_tool], "tool_choice": "auto"},
    "tool-forced": {"messages": ask, "tools": [oa_tool], "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                    "parallel_tool_calls": False},
    "tool-history": {"messages": [{"role": "user", "content": "Weather?"},
                                  {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
                                   "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}], "tools": [oa_tool]},
    "json-schema": {"messages": ask, "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": weather}}},
    "json-object": {"messages": ask, "response_format": {"type": "json_object"}},
    "image": {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                          {"type": "image_url", "image_url": {"url": png_url}}]}]},
    "audio": {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": wav_b64, "format": "wav"}}]}]},
    "file": {"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}, {"type": "text", "text": "sum"}]}]},
    "reasoning": {"messages": ask, "reasoning_effort": "low", "muse": {"mode": "contemplate", "agents": 4}, "max_completion_tokens": 64},
    "thinking-off": {"messages": ask, "chat_template_kwargs": {"enable_thinking": False}},
    "bad-role": {"messages": [{"role": "wizard", "content": "x"}]},
    "empty-messages": {"messages": []},
    "content-null": {"messages": [{"role": "user", "content": None}]},
    "unicode": {"messages": [{"role": "user", "content": "h\u00e9llo \u4f60\u597d \U0001f600 \u202e"}]},
}
for k, v in openai.items():
    put("openai_chat_request", k, v)
put("openai_chat_request", "not-json", b"{\"messages\": [")

an_tool = {"name": "get_weather", "description": "Weather for a city", "input_schema": weather}
anthropic = {
    "hello": {"model": "muse", "max_tokens": 32, "messages": ask},
    "system": {"max_tokens": 16, "system": "Be brief.", "messages": ask, "temperature": 0.5, "top_k": 5, "stop_sequences": ["\n"]},
    "system-blocks": {"max_tokens": 16, "system": [{"type": "text", "text": "Be brief."}], "messages": ask},
    "blocks": {"max_tokens": 16, "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]},
    "image": {"max_tokens": 16, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(media["png"]).decode()}},
        {"type": "text", "text": "What is this?"}]}]},
    "tools": {"max_tokens": 64, "messages": ask, "tools": [an_tool], "tool_choice": {"type": "auto"}},
    "tool-forced": {"max_tokens": 64, "messages": ask, "tools": [an_tool], "tool_choice": {"type": "tool", "name": "get_weather"}},
    "tool-use": {"max_tokens": 64, "tools": [an_tool], "messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm"},
                                          {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]}]}]},
    "thinking": {"max_tokens": 64, "messages": ask, "thinking": {"type": "enabled", "budget_tokens": 16}, "stream": True},
    "no-max-tokens": {"messages": ask},
}
for k, v in anthropic.items():
    put("anthropic_request", k, v)

fn_tool = {"type": "function", "name": "get_weather", "description": "Weather", "parameters": weather}
responses = {
    "string": {"model": "muse", "input": "Hello", "max_output_tokens": 16},
    "instructions": {"instructions": "Be brief.", "input": "Hi", "temperature": 0.2},
    "items": {"input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
                        {"role": "assistant", "content": [{"type": "output_text", "text": "Hello!"}]},
                        {"type": "message", "role": "user", "content": "And?"}]},
    "image": {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": png_url},
                                                     {"type": "input_text", "text": "?"}]}]},
    "tools": {"input": "Weather in Paris?", "tools": [fn_tool], "tool_choice": "required"},
    "tool-named": {"input": "Weather?", "tools": [fn_tool], "tool_choice": {"type": "function", "name": "get_weather"}},
    "function-call": {"tools": [fn_tool], "input": [
        {"role": "user", "content": "Weather?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}]},
    "reasoning": {"input": "Why?", "reasoning": {"effort": "low"}, "text": {"format": {"type": "json_schema", "name": "x", "schema": weather}}},
    "unknown-item": {"input": [{"type": "web_search_call", "id": "ws_1"}]},
}
for k, v in responses.items():
    put("responses_items", k, v)

# --- chat_template / tool_call_parse (FuzzedDataProvider bytes, then text) ----------------------------
put("chat_template", "zeros", bytes(64))
put("chat_template", "ones", b"\x01" * 64 + b"hello")
put("chat_template", "mixed", bytes(range(256)))
put("chat_template", "text", b"\x02user\x00Hello there\x01\x00assistant\x00" * 4)
generated = {
    "qwen-call": "<think>\nLet me check.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
    "qwen-two-calls": "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"python\", \"arguments\": {\"code\": \"1+1\"}}\n</tool_call>",
    "qwen-bad-args": "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \n</tool_call>",
    "qwen-text": "<think>hmm</think>The answer is 4.",
    "glimmer-call": " to=self<|message|>Need the weather.<|eom|><|start|>assistant to=get_weather<|message|>"
                    "<atem:function_calls><atem:invoke name=\"get_weather\"><atem:parameter name=\"city\">Paris"
                    "</atem:parameter></atem:invoke></atem:function_calls><|eom|>",
    "glimmer-two-calls": " to=get_weather<|message|><atem:function_calls><atem:invoke name=\"get_weather\">"
                         "<atem:parameter name=\"city\">Rome</atem:parameter><atem:parameter name=\"days\">3</atem:parameter>"
                         "</atem:invoke><atem:invoke name=\"python\"><atem:parameter name=\"code\">1+1</atem:parameter>"
                         "</atem:invoke></atem:function_calls><|eom|>",
    "glimmer-self": " to=self<|message|>thinking here<|eom|><|start|>assistant to=user<|message|>The answer.<|eot|>",
    "glimmer-final": " to=user<|message|>Hello!<|eot|>",
    "unclosed": "<think>never ends",
}
# FuzzedDataProvider takes numbers from the end and text from the front: the text, then one
# chunk size per 4-byte token (3 -> 4 bytes), then which of the four prompts.
for k, v in generated.items():
    for sel in (0, 1, 2, 3):
        if k.startswith("qwen") and sel < 2 or k.startswith("glimmer") and sel >= 2:
            continue
        text = v.encode()
        put("tool_call_parse", f"{k}-{sel}", text + b"\x03" * (len(text) // 4 + 1) + bytes([sel]))

# --- agent: SSE, MCP ------------------------------------------------------------------------------
sse = {
    "one": "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n",
    "crlf": "data: a\r\ndata: b\r\n\r\n: keep-alive\r\nid: 7\r\nevent: x\r\ndata:c\r\r",
    "multi": "retry: 10\n\ndata: 1\n\nevent: progress\ndata: {\"p\":0.5}\nid: 2\n\ndata\n\n",
}
# The stream, then (from the end) the cap (2 bytes), the number of cuts and the cut sizes.
for k, v in sse.items():
    put("sse_framing", k, v.encode() + bytes([9, 0, 1, 5, 3, 13, 2, 7]) + bytes([7]) + b"\x00\x40")

mcp = {
    "tools-list": {"jsonrpc": "2.0", "id": 2, "result": {"tools": [{"name": "echo", "description": "Echoes",
                   "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}}]}},
    "text": {"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "hello"}]}},
    "image": {"jsonrpc": "2.0", "id": 4, "result": {"content": [{"type": "image", "mimeType": "image/png",
              "data": base64.b64encode(media["png"]).decode()}, {"type": "text", "text": "a tiny image"}]}},
    "resource": {"jsonrpc": "2.0", "id": 5, "result": {"content": [{"type": "resource", "resource": {"uri": "file:///a.txt",
                 "mimeType": "text/plain", "text": "contents"}}, {"type": "resource_link", "uri": "file:///b", "name": "b"}]}},
    "is-error": {"jsonrpc": "2.0", "id": 6, "result": {"isError": True, "content": [{"type": "text", "text": "boom"}]}},
    "error": {"jsonrpc": "2.0", "id": 7, "error": {"code": -32602, "message": "Invalid params", "data": {"x": 1}}},
    "request": {"jsonrpc": "2.0", "id": "s1", "method": "sampling/createMessage", "params": {}},
    "notification": {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1, "total": 2}},
    "initialize": {"jsonrpc": "2.0", "id": 0, "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                   "serverInfo": {"name": "everything", "version": "1.0"}}},
}
for k, v in mcp.items():
    put("mcp_message", k, v)
put("mcp_message", "deep", "[" * 200 + "]" * 200)

mcp_config = {
    "stdio": {"mcpServers": {"files": {"command": "node", "args": ["server.js"], "env": {"K": "V"}, "cwd": "/tmp"}}},
    "http": {"mcpServers": {"remote": {"url": "http://127.0.0.1:3001/mcp", "headers": {"Authorization": "Bearer x"}}}},
    "both": {"mcpServers": {"a": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"]},
                            "b": {"type": "http", "url": "https://example.com/mcp"}}},
    "empty": {"mcpServers": {}},
    "bad-args": {"mcpServers": {"a": {"command": "x", "args": "not-a-list"}}},
}
for k, v in mcp_config.items():
    put("mcp_config", k, v)

# --- web pages, PDF --------------------------------------------------------------------------------------
html = {
    "page": "<!doctype html><html><head><title>T &amp; t</title><base href='/x/'></head><body><h1>Head</h1>"
            "<p>Some <b>bold</b> text with a <a href='../rel?a=1#f'>link</a>.</p><ul><li>one</li><li>two</li></ul>"
            "<ol><li>a</li></ol><table><tr><th>h</th><td>c</td></tr></table><script>x()</script>"
            "<style>p{}</style><div hidden>secret</div><pre>  code\n  here</pre></body></html>",
    "broken": "<p><b><i>unclosed <a href=\"javascript:alert(1)\">js</a><img src=x alt='pic'><br><p>next",
    "deep": "<div>" * 300 + "deep" + "</div>" * 300,
    "latin1": b"<p>caf\xe9 \xff\xfe</p>",
    "links": "".join(f"<a href='/p{i}'>p{i}</a> " for i in range(60)),
}
for k, v in html.items():
    put("web_extract", k, v)


def pdf_make(text):
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    stream = f"BT /F1 12 Tf 10 50 Td ({text}) Tj ET".encode()
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        body = (f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream") if o is None else o.encode()
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


put("pdf_text", "hello", pdf_make("Hello PDF"))
put("pdf_text", "truncated", pdf_make("cut")[:300])
put("pdf_text", "not-pdf", b"%PDF-")

# --- engine: text stream, grammars, KV files, GGUF ---------------------------------------------------
# Front: the stop strings (each ended by "\\ "), then the generated text; end: piece sizes, then the number of stops.
put("text_stream", "plain", b"END\\ hello world END more" + b"\x02" * 10 + bytes([1]))
put("text_stream", "utf8", "h\u00e9llo \u4f60\u597d \U0001f600".encode() + b"\xe4\xbd" + b"\x00" * 24 + bytes([0]))
put("text_stream", "stops", b"\n\n\\ User\\ abc\n\nUs and User: more" + b"\x04\x01" * 10 + bytes([2]))

grammars = {
    "numbers": 'root ::= object\nnumber ::= ("-"? integral-part) ("." decimal-part)? ([eE] [-+]? integral-part)?\n'
               'integral-part ::= [0] | [1-9] [0-9]{0,15}\ndecimal-part ::= [0-9]{1,16}\ninteger ::= ("-"? integral-part) space\n',
    "calls": 'root ::= reasoning? content? tool-call+\ntool-call ::= "<tool_call>" space call "</tool_call>"\n',
    "atem": 'root ::= " to=" [^<]+ "<|message|>" value\nvalue ::= "{" [^}]* "}"\n',
    "tags": 'root ::= "<think>" [^<]* "</think>" answer\nanswer ::= [a-z]*\n',
}
# Front: a tool name and its schema (each ended by "\\ "), then the grammar; end: has-a-tool, which rewrite.
for i, (k, v) in enumerate(grammars.items()):
    for which in (i, 4) if i == 3 else (i,):
        front = b"get_weather\\ " + json.dumps(weather).encode() + b"\\ " + (b"<think>\\ " if which == 4 else b"") + v.encode()
        put("grammar_bounds", f"{k}-{which}", front + bytes([1, which]))


def kv_checksum(data, seed=0):
    m = (1 << 64) - 1
    h = (seed ^ 0x9E3779B97F4A7C15 ^ len(data)) & m
    i = 0
    while i + 8 <= len(data):
        h ^= int.from_bytes(data[i:i + 8], "little")
        h = (h * 0xFF51AFD7ED558CCD) & m
        h ^= h >> 29
        i += 8
    for b in data[i:]:
        h ^= b
        h = (h * 0x100000001B3) & m
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & m
    return h ^ (h >> 33)


def kv_file(owner, tag, tokens, data, fingerprint=0x6d7573652d66757a):
    head = b"MUSEKV1\0" + struct.pack("<Q", fingerprint)
    for s in (owner, tag):
        head += struct.pack("<I", len(s)) + s
    head += struct.pack("<I", len(tokens)) + struct.pack(f"<{len(tokens)}i", *tokens) + struct.pack("<Q", len(data))
    return head + data + struct.pack("<Q", kv_checksum(data, kv_checksum(head)))


put("kv_file", "empty", kv_file(b"", b"", [], b""))
put("kv_file", "small", kv_file(b"7", b"conv_1", [1, 2, 3, 4], bytes(range(40))))
put("kv_file", "other-model", kv_file(b"7", b"x", [5], b"abc", fingerprint=1))
put("kv_file", "damaged", kv_file(b"1", b"t", [9, 9], b"0123456789")[:-3] + b"\0\0\0")


import gguf  # noqa: E402  (llama.cpp's gguf-py, from the pinned tree)


def gguf_bytes(arch="llama", vocab=True, template=True, tensors=True, extra=None):
    path = os.path.join(root, ".seed.gguf")
    w = gguf.GGUFWriter(path, arch)
    if arch != "clip":
        w.add_context_length(64)
        w.add_embedding_length(8)
        w.add_block_count(1)
        w.add_feed_forward_length(16)
        w.add_head_count(2)
        w.add_head_count_kv(1)
        w.add_layer_norm_rms_eps(1e-5)
    else:
        w.add_bool("clip.has_vision_encoder", True)
        w.add_bool("clip.has_audio_encoder", False)
    if vocab:
        toks = ["<unk>", "<s>", "</s>", "a", "b", "ab", "\u2581hi", "<think>", "</think>"]
        w.add_tokenizer_model("llama")
        w.add_token_list(toks)
        w.add_token_scores([0.0] * len(toks))
        w.add_token_types([2, 3, 3] + [1] * (len(toks) - 3))
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
    if template:
        w.add_chat_template("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
                            "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    for k, v in (extra or {}).items():
        w.add_string(k, v)
    if tensors:
        w.add_tensor("token_embd.weight", np.zeros((9, 8), dtype=np.float32))
        w.add_tensor("output_norm.weight", np.ones(8, dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


put("gguf_header", "llama-vocab", gguf_bytes())
put("gguf_header", "no-template", gguf_bytes(template=False))
put("gguf_header", "no-vocab", gguf_bytes(vocab=False, tensors=False))
put("gguf_header", "clip", gguf_bytes("clip", vocab=False, template=False))
put("gguf_header", "qwen3", gguf_bytes("qwen3", extra={"general.name": "tiny"}))
put("gguf_header", "truncated", gguf_bytes()[:200])
put("gguf_header", "not-gguf", b"GGML" + bytes(40))
put("gguf_header", "short", b"GGUF\x03\x00\x00\x00")
