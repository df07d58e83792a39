#pragma once
// muse's store: one SQLite database (WAL) under the data dir, versioned migrations, plus the
// uploaded files' bytes under <data dir>/files/. Users, API keys (salted hashes only),
// conversations and their messages, files, memory items and the tool-use audit.
//
// Every per-user call takes the caller's user id: another user's id reads as not found, the
// same as an id that does not exist. All calls are safe from any thread (one connection,
// serialized). Errors: store_error (the database or the disk failed).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "extract/chunk.h"

namespace muse::store {

struct store_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct user {
    int64_t     id = 0;
    std::string name;
    bool        admin      = false;
    int64_t     created_at = 0;  // unix seconds
};

struct api_key_info {
    std::string id;  // public part of the key, e.g. "k_3f9a1c2b"
    int64_t     user_id = 0;
    std::string user_name;
    bool        admin        = false;
    int64_t     created_at   = 0;
    int64_t     last_used_at = 0;  // 0: never
    bool        revoked      = false;
    std::string name;  // the owner's label for it ("" when none)
};

// A signed-in browser (the web app's cookie, sessions.cpp). The store keeps BLAKE2b-256 of
// the cookie's token as `id`, never the token.
struct browser_session {
    std::string id;          // hex hash of the token
    user        who;         // the key's user (admin as the user is)
    std::string key_id;      // the key signed in with: revoking it ends the session
    std::string csrf_token;  // what state-changing requests send in X-Muse-CSRF
    int64_t     created_at   = 0;
    int64_t     expires_at   = 0;
    int64_t     last_seen_at = 0;
};

// session_create's result: the token (the cookie's value, shown once) and the session.
struct browser_session_created {
    std::string     token;
    browser_session session;
};

struct conversation {
    std::string id;  // "conv_" + 24 hex
    int64_t     user_id = 0;
    std::string title;
    std::string metadata;  // JSON object text ("{}" when none)
    int64_t     created_at = 0;
    int64_t     updated_at = 0;  // bumped by every append and update
    std::string current_id;      // the message (a leaf, usually) the user is on; "" while it has none
};

// What conversation_update changes: each field that is set.
struct conversation_changes {
    std::optional<std::string> title;
    std::optional<std::string> metadata;    // JSON object text
    std::optional<std::string> current_id;  // a message of the conversation
};

// A conversation search found, with the words around a match in one of its messages
// ("" when only its title matched).
struct conversation_hit {
    conversation conv;
    std::string  snippet;
};

struct message {
    std::string id;  // "msg_" + 24 hex
    std::string conversation_id;
    std::string role;
    std::string content;  // JSON text: the message object as the API shows it
    int64_t     created_at = 0;
    std::string parent_id;  // the message it follows; "" for a first message
};

struct file_record {
    std::string id;  // "file-" + 24 hex
    int64_t     user_id = 0;
    std::string filename;
    std::string purpose;
    int64_t     bytes      = 0;
    int64_t     created_at = 0;
};

// A Responses API response: the object as the API shows it (`body`) and the conversation it
// ends (`history`: muse's messages as JSON, for previous_response_id). `workspace` names the
// files and artifacts of the chain it belongs to (its first response's id, or a conversation).
struct response_record {
    std::string id;  // "resp_" + 24 hex
    std::string workspace;
    std::string previous_id;  // "" when none
    std::string body;
    std::string history;
    int64_t     created_at = 0;
};

// One version of an artifact an agent made (html, svg, markdown).
struct artifact_record {
    std::string id;  // "art_" + 24 hex
    int         version = 1;
    std::string workspace;
    std::string title;
    std::string type;
    std::string content;
    int64_t     created_at = 0;
};

// One row of the audit (audit.cpp): a refusal, a guard or rule verdict, a tool call, a privacy
// action. `point`: where the content was checked (input, output, tool_arguments, tool_output,
// artifact, upload); `category`: the policy's ("S9"); `verdict_action`: allow, warn or block;
// `source`: rules or guard; `route`: what the request came through ("chat_completions",
// "cli.run"). Empty strings where a field does not apply.
struct audit_event {
    int64_t     id         = 0;
    int64_t     user_id    = 0;
    std::string user_name;       // filled by audit_list ("" when the user is gone)
    int64_t     created_at = 0;  // unix seconds; 0 when recording: now
    std::string kind;            // refusal, verdict, warn, tool_call, export, ...
    std::string point, category, verdict_action, source, route;
    std::string digest;                  // lowercase hex SHA-256 of the checked content
    std::optional<std::string> content;  // stored only when audit_content is on
    std::string detail = "{}";           // JSON object text
};

// What audit_list returns: every filter set narrows it. [since, until) in unix seconds.
struct audit_query {
    std::optional<int64_t> user_id;
    std::optional<int64_t> since, until;
    std::string            kind, category;  // "" matches any
    int                    limit = 100;
};

// The store's audit settings (store_settings): rows older than retention_days are pruned by
// audit_prune_by_retention (0: kept forever); content: whether audit_record keeps the content.
struct audit_settings {
    int  retention_days = 90;
    bool content        = false;
};

struct memory_item {
    std::string id;  // "mem_" + 24 hex
    std::string text;
    int64_t     created_at = 0;
};

// --- retrieval: what a search may find
enum chunk_source {
    CHUNK_SOURCE_FILE,          // an uploaded file's extracted text; source id "file-..."
    CHUNK_SOURCE_CONVERSATION,  // a message of a conversation; source id "conv_...", message id "msg_..."
};
const char * chunk_source_name(chunk_source s);  // "file", "conversation"

struct search_hit {
    int64_t      chunk_id = 0;
    chunk_source source   = CHUNK_SOURCE_FILE;
    std::string  source_id;
    std::string  message_id;  // conversations: the message the span is in; files: ""
    std::string  title;       // the filename, or the conversation's title
    int64_t      start = 0;   // byte span [start, end) of the file's text (or the message's text)
    int64_t      end   = 0;
    std::string  text;
    int          bm25_rank   = 0;  // 1-based place among the text matches; 0: not a text match
    int          vector_rank = 0;  // 1-based place among the nearest vectors; 0: not among them
    float        similarity  = 0;  // cosine to the query vector when vector_rank > 0
    double       score       = 0;  // reciprocal rank fusion of the two ranks (k = 60)
};

class database {
  public:
    // Opens (creating when missing) <data_dir>/muse.db in WAL mode and applies pending
    // migrations; throws store_error naming the path and the fix when it cannot.
    explicit database(const std::filesystem::path & data_dir);
    ~database();
    database(const database &)             = delete;
    database & operator=(const database &) = delete;

    int                           schema_version() const;
    const std::filesystem::path & data_dir() const;

    // --- users and keys
    user                 user_get_or_create(const std::string & name, bool admin);
    std::optional<user>  user_find(const std::string & name);
    // Creates a key for `user_name` (creating the user; `admin` makes the user an admin).
    // Returns the full key, shown once: "muse_" + key id + "_" + 32 random bytes in hex.
    // `name`: the owner's label for the key ("" none).
    std::string          key_create(const std::string & user_name, bool admin, std::string * key_id = nullptr,
                                    const std::string & name = "");
    std::vector<api_key_info> key_list();
    std::vector<api_key_info> key_list(int64_t user_id);  // that user's keys only
    bool                 key_revoke(const std::string & key_id);  // false: no such key
    // The key's user when the key is valid and not revoked (constant-time hash compare);
    // records the key's last use. `key_id`: set to the key's id when valid.
    std::optional<user>  key_verify(const std::string & key, std::string * key_id = nullptr);

    // --- browser sessions (sessions.cpp): the web app's sign-in cookie
    // A new session of `user_id` signed in with `key_id`, valid for `lifetime_secs` (> 0):
    // a token of 32 random bytes (base64url, no padding) and a CSRF token of as many.
    // Prunes the expired sessions as it goes.
    browser_session_created        session_create(int64_t user_id, const std::string & key_id, int64_t lifetime_secs);
    // The session of `token` while it is valid: not expired, its key not revoked, its user
    // there. nullopt otherwise (any text: never throws on the token's content).
    std::optional<browser_session> session_find(const std::string & token);
    // Records a use of the session now (last_seen_at).
    void                           session_touch(const std::string & session_id);
    bool                           session_delete(const std::string & token);  // false: none
    int64_t                        sessions_delete_of_user(int64_t user_id);   // the number deleted
    int64_t                        sessions_prune();  // deletes the expired ones; the number deleted
    // The user's sessions, valid or not, newest first (ids and dates; csrf_token left empty).
    std::vector<browser_session>   sessions_list(int64_t user_id);

    // --- conversations (conversations.cpp). A conversation is a tree of messages: each follows
    // its parent, so a regenerated answer or an edited question is a sibling of the first one,
    // and every branch is kept. Its current_id is the message the user is on.
    conversation              conversation_create(int64_t user_id, const std::string & title, const std::string & metadata_json);
    // Newest (updated_at) first.
    std::vector<conversation> conversation_list(int64_t user_id, int limit = 100);
    std::optional<conversation> conversation_get(int64_t user_id, const std::string & id);
    bool                      conversation_delete(int64_t user_id, const std::string & id);
    // Sets the changed fields and bumps updated_at; nullopt when the conversation is not the
    // user's. Throws std::invalid_argument when current_id is not one of its messages.
    std::optional<conversation> conversation_update(int64_t user_id, const std::string & id, const conversation_changes & c);
    // The user's conversations whose title has `query` (a substring, any case for ASCII) or
    // whose messages have any of its words (the chunks' FTS5 index), newest first, at most
    // `limit`. A message match brings a snippet of its text.
    std::vector<conversation_hit> conversation_search(int64_t user_id, const std::string & query, int limit = 20);
    // Appends under the conversation's current message (a first message when it has none) and
    // makes the new one current, in one committed transaction; nullopt when the conversation
    // is not the user's.
    std::optional<message>    message_append(int64_t user_id, const std::string & conversation_id,
                                             const std::string & role, const std::string & content_json);
    // The same under `parent_id` ("": a new first message, a sibling of the others). Throws
    // std::invalid_argument when parent_id is not a message of the conversation.
    std::optional<message>    message_append_under(int64_t user_id, const std::string & conversation_id,
                                                   const std::string & parent_id, const std::string & role,
                                                   const std::string & content_json);
    // Every message of every branch, in the order they were stored.
    std::vector<message>      message_list(int64_t user_id, const std::string & conversation_id);
    // The branch that ends at `message_id`: from the first message to it. Empty when it is not
    // a message of the user's conversation.
    std::vector<message>      message_path(int64_t user_id, const std::string & conversation_id, const std::string & message_id);
    // The messages with the same parent as `message_id`, itself among them, oldest first.
    // Empty when it is not a message of the user's conversation.
    std::vector<message>      message_siblings(int64_t user_id, const std::string & conversation_id,
                                               const std::string & message_id);

    // --- files (bytes on disk, written to a temporary name and renamed: never half a file)
    file_record                file_put(int64_t user_id, const std::string & filename, const std::string & purpose,
                                        const std::string & bytes);
    std::optional<file_record> file_get(int64_t user_id, const std::string & id);
    std::optional<std::string> file_read(int64_t user_id, const std::string & id);
    std::vector<file_record>   file_list(int64_t user_id);
    bool                       file_delete(int64_t user_id, const std::string & id);

    // --- the agent: responses, artifacts, and each workspace's files on disk
    void                           response_put(int64_t user_id, const response_record & r);
    std::optional<response_record> response_get(int64_t user_id, const std::string & id);
    bool                           response_delete(int64_t user_id, const std::string & id);
    // A new artifact (`id` empty) or a new version of the workspace's artifact `id` (nullopt
    // when the user's workspace has none with that id).
    std::optional<artifact_record> artifact_put(int64_t user_id, const std::string & workspace, const std::string & id,
                                                const std::string & title, const std::string & type,
                                                const std::string & content);
    // Version `version` of the user's artifact, or its latest when 0.
    std::optional<artifact_record> artifact_get(int64_t user_id, const std::string & id, int version = 0);
    // The latest version of each of a workspace's artifacts, without their content.
    std::vector<artifact_record>   artifact_list(int64_t user_id, const std::string & workspace);
    // <data dir>/workspaces/<user id>/<workspace>: the sandbox's /mnt/data for that chain or
    // conversation (not created here). Throws store_error for a workspace name that is not an id.
    std::filesystem::path          workspace_dir(int64_t user_id, const std::string & workspace) const;

    // --- memory
    memory_item              memory_add(int64_t user_id, const std::string & text);
    std::vector<memory_item> memory_list(int64_t user_id);
    bool                     memory_delete(int64_t user_id, const std::string & id);

    // --- retrieval (retrieval.cpp): chunks of the user's files and conversations, BM25 over
    // their text (SQLite FTS5) and cosine over their vectors (hnswlib), fused; memory ranked
    // for a prompt. Vectors are the caller's (an embedding model): optional everywhere, one
    // float32 vector per span, all of one dims. Bad vectors throw std::invalid_argument.

    // Stores the spans of one source (`title`: its filename or title) in one transaction,
    // beside any it already has (to re-index, chunks_delete first). `vectors`: empty, or one
    // per span. False (nothing stored) when the source is not the user's file or conversation
    // (deleted meanwhile). Messages are indexed by message_append itself.
    bool   chunks_add(int64_t user_id, chunk_source source, const std::string & source_id, const std::string & title,
                      const std::vector<extract::chunk_span> & spans, const std::vector<std::vector<float>> & vectors = {});
    // Removes the source's chunks and vectors; the number removed.
    size_t chunks_delete(int64_t user_id, chunk_source source, const std::string & source_id);
    // The user's best `k` chunks for `query` (any text: it is searched as words, never as FTS
    // syntax) and, when given, the embedding of the query. `kinds` empty: every source kind.
    std::vector<search_hit> search(int64_t user_id, const std::string & query, const std::vector<float> & query_vector,
                                   size_t k, const std::vector<chunk_source> & kinds = {});

    // A memory item with its embedding (`vector` empty: none).
    memory_item              memory_add(int64_t user_id, const std::string & text, const std::vector<float> & vector);
    // The items most worth putting in a prompt about `query`: similarity (cosine to
    // `query_vector` for items with a vector of its dims, else the share of the query's words
    // the item has) plus a little recency, best first; at most `max_items` whose texts add up
    // to at most `max_chars` bytes. A small memory is shown whole; nothing when memory is off.
    std::vector<memory_item> memory_relevant(int64_t user_id, const std::string & query,
                                             const std::vector<float> & query_vector, size_t max_items,
                                             size_t max_chars);
    // Whether the user's memory is used (remembered, shown to the model). On until turned off.
    bool                     memory_enabled(int64_t user_id);
    void                     memory_enabled_set(int64_t user_id, bool enabled);

    // --- audit (audit.cpp): refusals, verdicts, tool calls and privacy actions
    // A row of kind `action` with no structured fields (the tool-use and privacy records).
    void audit_add(int64_t user_id, const std::string & action, const std::string & detail_json);
    // Records `e` (its id and user_name are ignored; created_at 0: now). A non-empty `content`
    // sets the digest (its SHA-256) and is kept only while audit_content is on; an empty one
    // keeps e.digest as given. Throws std::invalid_argument for an empty kind.
    void                     audit_record(const audit_event & e, const std::string & content);
    // Newest first, at most q.limit rows.
    std::vector<audit_event> audit_list(const audit_query & q);
    // Deletes the rows created before `older_than_unix`; the number deleted.
    int64_t                  audit_prune(int64_t older_than_unix);
    // audit_prune of the rows older than audit_retention_days (none when it is 0).
    int64_t                  audit_prune_by_retention();
    audit_settings           audit_settings_get();
    // Throws std::invalid_argument for a negative retention.
    void                     audit_settings_set(const audit_settings & s);

    // --- privacy
    // Everything stored about the user as one JSON document (text): user, keys (ids and
    // dates, never hashes), sessions (ids and dates, never tokens), conversations with messages, file metadata, memory, settings,
    // audit. (Search chunks are derived from the files and messages: not repeated.)
    std::string user_export(int64_t user_id);
    // Deletes all of it: messages, conversations, files (and their bytes), their search
    // chunks and vectors, memory, settings, audit, sessions, keys and the user row.
    void        user_delete(int64_t user_id);

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace muse::store
