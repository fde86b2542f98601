#include "services/spec_io.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "evaluators/common/input_file.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace evolv {
namespace {

// Collects text-format parse errors with their line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1) +
               ": " + message;
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// One token of spec text: a quoted string, a bare word, or one punctuation character.
struct Token {
  size_t begin = 0, end = 0;
  char kind = 0;  // '"' string, 'w' word, else the punctuation character itself
};

// Splits JSON or text format into tokens, skipping blanks and # comments (text format).
std::vector<Token> Tokenize(const std::string& text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != c) j += text[j] == '\\' ? 2 : 1;
      tokens.push_back({i, std::min(j + 1, text.size()), '"'});
      i = std::min(j + 1, text.size());
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      size_t j = i;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) ||
                                 text[j] == '_' || text[j] == '-' || text[j] == '.')) {
        ++j;
      }
      tokens.push_back({i, j, 'w'});
      i = j;
    } else {
      tokens.push_back({i, i + 1, c});
      ++i;
    }
  }
  return tokens;
}

// Rewrites the short form of the problem (a registered domain's name as a top-level field whose
// value is a message) into the Any form protobuf's parsers read. Anything it does not recognize
// is left for the parser to report.
std::string ExpandDomainShorthand(const std::string& text, bool json,
                                  const ProblemRegistry& registry) {
  const std::vector<Token> tokens = Tokenize(text);
  struct Edit {
    size_t at, erase;
    std::string insert;
  };
  std::vector<Edit> edits;
  const int top = json ? 1 : 0;  // nesting depth of top-level fields
  int depth = 0;
  std::vector<size_t> open_edits;  // per open brace: index+1 of the edit closing it, or 0
  for (size_t k = 0; k < tokens.size(); ++k) {
    const Token& t = tokens[k];
    if (t.kind == '{' || t.kind == '[' || t.kind == '<') {
      ++depth;
      open_edits.push_back(0);
      continue;
    }
    if (t.kind == '}' || t.kind == ']' || t.kind == '>') {
      --depth;
      if (!open_edits.empty()) {
        if (open_edits.back() != 0) edits.push_back({t.begin, 0, "}"});
        open_edits.pop_back();
      }
      continue;
    }
    if (depth != top || (t.kind != (json ? '"' : 'w'))) continue;
    const std::string name =
        json ? text.substr(t.begin + 1, t.end - t.begin - 2) : text.substr(t.begin, t.end - t.begin);
    const std::string type = registry.SpecTypeOf(name);
    if (type.empty()) continue;
    size_t v = k + 1;
    if (v < tokens.size() && tokens[v].kind == ':') ++v;
    if (v >= tokens.size() || tokens[v].kind != '{') continue;
    if (json && k + 1 < tokens.size() && tokens[k + 1].kind != ':') continue;
    const std::string url = "type.googleapis.com/" + type;
    edits.push_back({t.begin, t.end - t.begin, json ? "\"problem\"" : "problem"});
    if (json) {
      const bool empty = v + 1 < tokens.size() && tokens[v + 1].kind == '}';
      edits.push_back({tokens[v].end, 0, "\"@type\": \"" + url + "\"" + (empty ? "" : ", ")});
    } else {
      edits.push_back({tokens[v].end, 0, "[" + url + "] {"});
    }
    k = v;
    ++depth;
    open_edits.push_back(json ? 0 : 1);
  }
  std::string out = text;
  std::stable_sort(edits.begin(), edits.end(),
                   [](const Edit& a, const Edit& b) { return a.at > b.at; });
  for (const Edit& e : edits) out.replace(e.at, e.erase, e.insert);
  return out;
}

// JSON forbids a comma before '}' or ']', but protobuf's parser lets it pass: refuse it here,
// naming where it is ("line 3, column 20: trailing comma before '}'"); OK otherwise.
absl::Status CheckNoTrailingComma(const std::string& text) {
  const std::vector<Token> tokens = Tokenize(text);
  for (size_t k = 0; k + 1 < tokens.size(); ++k) {
    if (tokens[k].kind != ',' || (tokens[k + 1].kind != '}' && tokens[k + 1].kind != ']')) {
      continue;
    }
    const size_t at = tokens[k].begin;
    const size_t line = 1 + std::count(text.begin(), text.begin() + at, '\n');
    const size_t line_start = text.rfind('\n', at);
    const size_t column = line_start == std::string::npos ? at + 1 : at - line_start;
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ", column ", column,
                                                   ": trailing comma before '",
                                                   std::string(1, tokens[k + 1].kind), "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::JobSpec> ParseJobSpec(const std::string& raw, const std::string& origin,
                                         const ProblemRegistry& registry) {
  v1::JobSpec spec;
  const size_t start = raw.find_first_not_of(" \t\r\n");
  const bool json = start != std::string::npos && raw[start] == '{';
  const std::string text = ExpandDomainShorthand(raw, json, registry);
  if (json) {
    if (absl::Status comma = CheckNoTrailingComma(raw); !comma.ok()) {
      return absl::InvalidArgumentError(
          origin + ": malformed JSON job spec: " + std::string(comma.message()));
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(text, &spec, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          origin + ": malformed JSON job spec: " + std::string(status.message()));
    }
    return spec;
  }
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError(origin +
                                      ": malformed text-format job spec: " + errors.first());
  }
  return spec;
}

absl::StatusOr<v1::JobSpec> LoadJobSpec(const std::string& path, const ProblemRegistry& registry) {
  absl::StatusOr<std::unique_ptr<InputFile>> file = InputFile::Open(path);
  if (!file.ok()) return file.status();
  if ((*file)->size() > kMaxSpecFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": spec file of ", (*file)->size(), " bytes, larger than 1 MiB"));
  }
  absl::StatusOr<std::string> text = (*file)->ReadRest();
  if (!text.ok()) return text.status();
  return ParseJobSpec(*text, path, registry);
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace evolv
