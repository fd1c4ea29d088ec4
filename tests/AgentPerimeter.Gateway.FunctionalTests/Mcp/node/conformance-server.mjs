// A Streamable HTTP MCP server built only from the official TypeScript SDK, implementing the
// fixtures the official MCP conformance suite (@modelcontextprotocol/conformance) expects of a
// server: the test_* tools, test:// resources, test_* prompts, completion, logging, subscriptions,
// SSE resumability (SEP-1699) and DNS-rebinding protection.
// Usage: node conformance-server.mjs   → prints "LISTENING http://127.0.0.1:PORT/mcp" once listening.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  CallToolRequestSchema, CompleteRequestSchema, CreateMessageResultSchema, ElicitResultSchema, ErrorCode,
  GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema, ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema, McpError, ReadResourceRequestSchema, SubscribeRequestSchema, UnsubscribeRequestSchema,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';

// A 1x1 red PNG and a one-sample 8 kHz mono WAV.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==';
const NO_ARGS = { type: 'object', properties: {} };
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- Tools: name, description, inputSchema (plain JSON Schema, listed verbatim) and handler. ----
const tools = [
  { name: 'test_simple_text', description: 'Returns simple text content', inputSchema: NO_ARGS,
    run: async () => text('This is a simple text response for testing.') },
  { name: 'test_image_content', description: 'Returns image content', inputSchema: NO_ARGS,
    run: async () => ({ content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] }) },
  { name: 'test_audio_content', description: 'Returns audio content', inputSchema: NO_ARGS,
    run: async () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }) },
  { name: 'test_embedded_resource', description: 'Returns an embedded resource', inputSchema: NO_ARGS,
    run: async () => ({ content: [{ type: 'resource', resource: {
      uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] }) },
  { name: 'test_multiple_content_types', description: 'Returns text, image and resource content', inputSchema: NO_ARGS,
    run: async () => ({ content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json',
        text: JSON.stringify({ test: 'data', value: 123 }) } },
    ] }) },
  { name: 'test_tool_with_logging', description: 'Sends three log notifications while it runs', inputSchema: NO_ARGS,
    run: async (args, ctx) => {
      await ctx.log('info', 'Tool execution started');
      await sleep(50);
      await ctx.log('info', 'Tool processing data');
      await sleep(50);
      await ctx.log('info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    } },
  { name: 'test_tool_with_progress', description: 'Reports progress 0, 50, 100 of 100', inputSchema: NO_ARGS,
    run: async (args, { extra }) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress) await sleep(50);
        if (progressToken !== undefined)
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
      }
      return text('Tool with progress executed successfully');
    } },
  { name: 'test_error_handling', description: 'Always fails with a tool error', inputSchema: NO_ARGS,
    run: async () => ({ isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] }) },
  { name: 'test_reconnection', description: 'Closes its SSE stream mid-call; the result arrives after the client resumes (SEP-1699)',
    inputSchema: NO_ARGS,
    run: async (args, { extra }) => {
      // The SDK offers closeSSEStream only when the stream is resumable (event store + priming event).
      extra.closeSSEStream?.();
      await sleep(100);
      return text('Reconnection test completed: the result was delivered after the stream was closed.');
    } },
  { name: 'test_sampling', description: 'Asks the client to sample an LLM completion',
    inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } }, required: ['prompt'] },
    run: async ({ prompt }, { server, extra }) => {
      if (!server.getClientCapabilities()?.sampling) return toolError('The client does not support sampling');
      const result = await extra.sendRequest({ method: 'sampling/createMessage', params: {
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 } }, CreateMessageResultSchema);
      return text(`LLM response: ${result.content?.text ?? JSON.stringify(result.content)}`);
    } },
  { name: 'test_elicitation', description: 'Asks the user for input through the client',
    inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'The message to show the user' } }, required: ['message'] },
    run: async ({ message }, ctx) => ctx.elicit(message, { type: 'object', required: ['username', 'email'], properties: {
      username: { type: 'string', description: "User's response" },
      email: { type: 'string', description: "User's email address" } } }, 'User response') },
  { name: 'test_elicitation_sep1034_defaults', description: 'Elicitation whose fields all have defaults (SEP-1034)', inputSchema: NO_ARGS,
    run: async (args, ctx) => ctx.elicit('Please review the form fields (defaults are filled in)', { type: 'object', properties: {
      name: { type: 'string', description: 'User name', default: 'John Doe' },
      age: { type: 'integer', description: 'User age', default: 30 },
      score: { type: 'number', description: 'User score', default: 95.5 },
      status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
      verified: { type: 'boolean', description: 'Verification status', default: true } } }) },
  { name: 'test_elicitation_sep1330_enums', description: 'Elicitation with every enum schema variant (SEP-1330)', inputSchema: NO_ARGS,
    run: async (args, ctx) => ctx.elicit('Please pick from the enum fields', { type: 'object', properties: {
      untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
      titledSingle: { type: 'string', oneOf: [
        { const: 'value1', title: 'First Option' }, { const: 'value2', title: 'Second Option' }, { const: 'value3', title: 'Third Option' }] },
      legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
      untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
      titledMulti: { type: 'array', items: { anyOf: [
        { const: 'value1', title: 'First Choice' }, { const: 'value2', title: 'Second Choice' }, { const: 'value3', title: 'Third Choice' }] } },
    } }) },
  { name: 'json_schema_2020_12_tool', description: 'Tool with JSON Schema 2020-12 features (SEP-1613)',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
    run: async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`) },
];
const toolError = (message) => ({ isError: true, content: [{ type: 'text', text: message }] });
const validator = new AjvJsonSchemaValidator();
for (const tool of tools) tool.validate = validator.getValidator(tool.inputSchema);

// ---- Resources and the one resource template. ----
const resources = [
  { uri: 'test://static-text', name: 'static-text', description: 'A static text resource', mimeType: 'text/plain',
    text: 'This is the content of the static text resource.' },
  { uri: 'test://static-binary', name: 'static-binary', description: 'A static binary resource (PNG image)', mimeType: 'image/png',
    blob: PNG },
  { uri: 'test://watched-resource', name: 'watched-resource', description: 'A resource clients can subscribe to', mimeType: 'text/plain',
    text: 'Watched resource content' },
];
const template = { uriTemplate: 'test://template/{id}/data', name: 'template', description: 'Data for the given id',
  mimeType: 'application/json' };
const TEMPLATE_URI = /^test:\/\/template\/([^/]+)\/data$/;

// ---- Prompts: arguments as listed, and a function building the messages. ----
const user = (content) => ({ role: 'user', content });
const prompts = [
  { name: 'test_simple_prompt', description: 'A simple prompt without arguments', arguments: [],
    messages: () => [user({ type: 'text', text: 'This is a simple prompt for testing.' })] },
  { name: 'test_prompt_with_arguments', description: 'A prompt with two required arguments',
    arguments: [{ name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true }],
    messages: (a) => [user({ type: 'text', text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` })] },
  { name: 'test_prompt_with_embedded_resource', description: 'A prompt embedding a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    messages: (a) => [
      user({ type: 'resource', resource: { uri: a.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } }),
      user({ type: 'text', text: 'Please process the embedded resource above.' })] },
  { name: 'test_prompt_with_image', description: 'A prompt with image content', arguments: [],
    messages: () => [user({ type: 'image', data: PNG, mimeType: 'image/png' }),
      user({ type: 'text', text: 'Please analyze the image above.' })] },
];
// Completion candidates by argument name (prompt arguments and the template's {id}).
const completions = { arg1: ['paris', 'park', 'party'], arg2: ['world', 'word', 'work'],
  resourceUri: resources.map((r) => r.uri), id: ['1', '2', '123'] };

// One SDK Server per session (a Server is bound to one transport).
function createServer() {
  const server = new Server({ name: 'conformance-server', version: '1.0.0' }, {
    capabilities: { tools: {}, resources: { subscribe: true }, prompts: {}, logging: {}, completions: {} },
  });
  const subscriptions = new Set();

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const tool = tools.find((t) => t.name === name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const check = tool.validate(args);
    if (!check.valid) return toolError(`Invalid arguments for ${name}: ${check.errorMessage}`);
    const ctx = {
      server, extra,
      // Log notifications go out on the tool call's own stream, honouring logging/setLevel.
      log: async (level, data) => {
        if (!server.isMessageIgnored(level, extra.sessionId))
          await extra.sendNotification({ method: 'notifications/message', params: { level, logger: 'conformance-server', data } });
      },
      // Sends elicitation/create on the tool call's stream and reports what the user answered.
      elicit: async (message, requestedSchema, label = 'Elicitation completed') => {
        if (!server.getClientCapabilities()?.elicitation) return toolError('The client does not support elicitation');
        const r = await extra.sendRequest({ method: 'elicitation/create', params: { message, requestedSchema } }, ElicitResultSchema);
        return text(`${label}: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
      },
    };
    try {
      return await tool.run(args, ctx);
    } catch (e) {
      return toolError(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: resources.map(({ uri, name, description, mimeType }) => ({ uri, name, description, mimeType })),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [template] }));
  server.setRequestHandler(ReadResourceRequestSchema, async ({ params: { uri } }) => {
    const found = resources.find((r) => r.uri === uri);
    if (found) {
      const { name, description, ...contents } = found;
      return { contents: [contents] };
    }
    const match = TEMPLATE_URI.exec(uri);
    if (match) {
      const id = decodeURIComponent(match[1]);
      return { contents: [{ uri, mimeType: 'application/json',
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    }
    throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
  });
  server.setRequestHandler(SubscribeRequestSchema, async ({ params: { uri } }) => {
    subscriptions.add(uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async ({ params: { uri } }) => {
    subscriptions.delete(uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: prompts.map(({ name, description, arguments: a }) => ({ name, description, arguments: a })),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async ({ params: { name, arguments: args = {} } }) => {
    const prompt = prompts.find((p) => p.name === name);
    if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    const missing = prompt.arguments.filter((a) => a.required && args[a.name] === undefined).map((a) => a.name);
    if (missing.length) throw new McpError(ErrorCode.InvalidParams, `Missing required arguments: ${missing.join(', ')}`);
    return { description: prompt.description, messages: prompt.messages(args) };
  });

  server.setRequestHandler(CompleteRequestSchema, async ({ params: { ref, argument } }) => {
    const known = ref.type === 'ref/prompt' ? prompts.some((p) => p.name === ref.name) : ref.uri === template.uriTemplate;
    const values = (known ? completions[argument.name] ?? [] : []).filter((v) => v.startsWith(argument.value ?? ''));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

// In-memory event store (one per session) so SSE streams can be resumed with Last-Event-ID.
class MemoryEventStore {
  #events = new Map(); // eventId -> { streamId, message }, in the order stored
  #next = 0;
  async storeEvent(streamId, message) {
    const eventId = `${++this.#next}`;
    this.#events.set(eventId, { streamId, message });
    return eventId;
  }
  async getStreamIdForEventId(eventId) {
    return this.#events.get(eventId)?.streamId;
  }
  async replayEventsAfter(lastEventId, { send }) {
    const last = this.#events.get(lastEventId);
    if (!last) throw new Error(`Unknown event id: ${lastEventId}`);
    let after = false;
    for (const [eventId, { streamId, message }] of this.#events) {
      if (after && streamId === last.streamId && Object.keys(message).length > 0) await send(eventId, message);
      after ||= eventId === lastEventId;
    }
    return last.streamId;
  }
}

// ---- HTTP: POST/GET/DELETE on /mcp, one transport per session. ----
const sessions = new Map(); // session id -> transport

function sendJsonError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

// DNS-rebinding protection: only localhost names in Host, and in Origin when one is sent.
const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
function isLocal(url) {
  try { return LOCAL_HOSTNAMES.has(new URL(url).hostname); } catch { return false; }
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    if ((size += chunk.length) > 4 * 1024 * 1024) throw new Error('Request body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function handle(req, res) {
  if (new URL(req.url, 'http://localhost').pathname !== '/mcp') return sendJsonError(res, 404, -32000, 'Not found');
  const origin = req.headers.origin;
  if (!isLocal(`http://${req.headers.host ?? ''}`) || (origin !== undefined && !isLocal(origin)))
    return sendJsonError(res, 403, -32000, 'Forbidden: Host/Origin is not localhost');
  if (!['POST', 'GET', 'DELETE'].includes(req.method)) {
    res.setHeader('Allow', 'GET, POST, DELETE');
    return sendJsonError(res, 405, -32000, 'Method not allowed');
  }

  const sessionId = req.headers['mcp-session-id'];
  let body;
  if (req.method === 'POST') {
    try { body = await readJson(req); } catch (e) { return sendJsonError(res, 400, -32700, `Parse error: ${e.message}`); }
  }
  if (sessionId !== undefined) {
    const transport = sessions.get(sessionId);
    if (!transport) return sendJsonError(res, 404, -32001, 'Session not found');
    return transport.handleRequest(req, res, body);
  }
  if (req.method !== 'POST' || !isInitializeRequest(body))
    return sendJsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');

  // A new session: its own transport (with an event store for resumability) and server.
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    eventStore: new MemoryEventStore(),
    retryInterval: 1000, // sent with each priming event: how long a client waits before reconnecting
    onsessioninitialized: (id) => sessions.set(id, transport),
  });
  transport.onclose = () => sessions.delete(transport.sessionId);
  await createServer().connect(transport);
  await transport.handleRequest(req, res, body);
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.error('conformance-server: request failed:', e);
    if (!res.headersSent) sendJsonError(res, 500, ErrorCode.InternalError, 'Internal server error');
    else res.end();
  });
});
httpServer.listen(0, '127.0.0.1', () => {
  console.log(`LISTENING http://127.0.0.1:${httpServer.address().port}/mcp`);
});

const shutdown = async () => {
  await Promise.allSettled([...sessions.values()].map((t) => t.close()));
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
