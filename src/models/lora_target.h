// The projections of a decoder layer a LoRA adapter can join (PEFT's q_proj ... down_proj).
#pragma once

#include <optional>
#include <string_view>

namespace owl {

enum class LoraTarget { q, k, v, o, gate, up, down };
inline constexpr int kLoraTargets = 7;
inline constexpr LoraTarget kAllLoraTargets[kLoraTargets] = {LoraTarget::q,    LoraTarget::k,  LoraTarget::v,
                                                             LoraTarget::o,    LoraTarget::gate, LoraTarget::up,
                                                             LoraTarget::down};

std::string_view lora_target_name(LoraTarget t);                   // "q", "k", ... as --targets spells them
std::optional<LoraTarget> lora_target_from_name(std::string_view);  // also accepts "q_proj", "gate_proj", ...

}  // namespace owl
