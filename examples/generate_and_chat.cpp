// The public API in one program: load a model, complete a prompt with the text streamed as it
// comes, then hold a two-turn chat in the model's own template.
//
//   example_generate_and_chat MODEL.gguf [PROMPT]
#include <owl/owl.h>

#include <cstdio>
#include <exception>
#include <string_view>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL.gguf [PROMPT]\n", argv[0]);
    return 1;
  }
  const char* prompt = argc > 2 ? argv[2] : "Once upon a time";
  try {
    auto model = owl::api::Model::load(argv[1], /*threads=*/2, /*n_ctx=*/256);
    auto print = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    };
    owl::api::GenerateParams greedy;
    greedy.temperature = 0;
    greedy.max_tokens = 64;

    std::printf("%s", prompt);
    const owl::api::GenerateResult r = model->generate(prompt, greedy, print);
    std::printf("\n[%lld prompt tokens, %lld generated, %s]\n", static_cast<long long>(r.prompt_tokens),
                static_cast<long long>(r.generated_tokens), r.finish_reason.c_str());

    auto chat = model->chat("You tell short stories.");
    greedy.max_tokens = 24;
    for (const char* message : {"Tell me about a cat.", "And then?"}) {
      std::printf("> %s\n", message);
      chat->send(message, greedy, print);
      std::printf("\n");
    }
    std::printf("[%zu messages]\n", chat->n_messages());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
