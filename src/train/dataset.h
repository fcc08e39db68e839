// Fine-tuning data: JSONL in mlx-lm's formats, detected per line — {"text"}, {"prompt",
// "completion"}, {"messages"} (and "tools"), rendered with the model's chat template, and
// pre-tokenized {"tokens", "mask"} — turned into token sequences with target flags. A directory
// holds train.jsonl, valid.jsonl and test.jsonl as mlx-lm's do. Lines are untrusted: a bad one is
// an owl::Error naming the file and line.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace owl::train {

// One training sequence: targets[t] = 1 when token t is a target (predicted from position t - 1).
struct Example {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> targets;
};

// How the model turns text into tokens (the app supplies it from the loaded model, so that train/
// needs no engine). render is null when the model has no chat template of its own.
struct Encoder {
  std::function<std::vector<int32_t>(const std::string& text, bool add_bos)> text;
  std::function<std::string(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                            bool add_generation_prompt)>
      render;
  std::function<std::vector<int32_t>(const std::string& rendered)> chat_tokens;
  int32_t eos = -1;
  int64_t n_vocab = 0;
};

struct DatasetOptions {
  int64_t max_seq_len = 2048;  // longer examples are cut to this (and counted)
  bool mask_prompt = false;    // train only on completions / the last assistant turn
};

struct Dataset {
  std::string path;
  std::vector<Example> examples;
  int64_t n_truncated = 0;
  int64_t n_targets() const;
  int64_t n_tokens() const;
};

// One JSONL file.
Dataset load_jsonl(const std::string& path, const Encoder& encoder, const DatasetOptions& options);

// The train and validation sets of --data (a file, or a directory with train.jsonl and maybe
// valid.jsonl) and --valid (a file, or empty). valid is empty when neither names one.
struct DataSplit {
  Dataset train;
  Dataset valid;
};
DataSplit load_data(const std::string& data, const std::string& valid, const Encoder& encoder,
                    const DatasetOptions& options);

// The texts a tokenizer is trained on: the "text" of every line of a JSONL file (read as
// load_jsonl reads it), or every non-empty line of any other file.
std::vector<std::string> load_texts(const std::string& path);

}  // namespace owl::train
