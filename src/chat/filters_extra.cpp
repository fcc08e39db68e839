// jinja2 filters that chat templates use rarely, each as jinja2 3.1 defines it
// (jinja2/filters.py): truncate, urlencode, xmlattr, batch, slice, wordwrap, striptags.
#include <algorithm>

#include "chat/builtins.h"
#include "chat/error.h"
#include "chat/text.h"

namespace owl::chat {

namespace {

// Python's urllib.parse.quote over UTF-8 bytes: letters, digits, "_.-~" and `safe` stay.
std::string url_quote(const std::string& s, bool for_query) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool plain = std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-' || c == '~' || (!for_query && c == '/');
    if (plain && c < 0x80) {
      out += static_cast<char>(c);
    } else if (for_query && c == ' ') {
      out += '+';  // jinja2 replaces %20 with + in query pairs
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// markupsafe's striptags removes "<!--" ... "-->" again and again from the start of the whole
// text, so a removal can join "<!" and "--" into a new opening: the (at most 3) characters kept
// before the cut are looked at again with what follows. Linear, where erasing in place is not.
std::string remove_comments(std::string_view s) {
  std::string out;
  size_t i = 0;  // s[i:] is the text not yet looked at; the current text is out + s[i:]
  auto at = [&](size_t k, size_t tail) {  // the k-th character of out's last `tail` ones + s[i:]
    return k < tail ? out[out.size() - tail + k] : (i + k - tail < s.size() ? s[i + k - tail] : '\0');
  };
  auto starts = [&](size_t k, size_t tail, std::string_view mark) {
    for (size_t j = 0; j < mark.size(); ++j)
      if (k + j >= tail + s.size() - i || at(k + j, tail) != mark[j]) return false;
    return true;
  };
  while (true) {
    const size_t tail = std::min<size_t>(3, out.size());
    size_t open = std::string::npos;  // in the joined view (tail characters of out, then s[i:])
    for (size_t k = 0; k < tail && open == std::string::npos; ++k)
      if (starts(k, tail, "<!--")) open = k;
    if (open == std::string::npos) {
      const size_t q = s.find("<!--", i);
      if (q == std::string_view::npos) break;
      open = q - i + tail;
    }
    size_t close = std::string::npos;  // "-->" at or after the opening '<'
    for (size_t k = open; k < tail && close == std::string::npos; ++k)
      if (starts(k, tail, "-->")) close = k;
    if (close == std::string::npos) {
      const size_t q = s.find("-->", i + (open > tail ? open - tail : 0));
      if (q == std::string_view::npos) break;
      close = q - i + tail;
    }
    if (open >= tail) {
      out.append(s.substr(i, open - tail));
    } else {
      out.resize(out.size() - (tail - open));
    }
    i += close + 3 - tail;
  }
  out.append(s.substr(i));
  return out;
}

// Then every '<' to the first '>' after it; what is kept before the cut never holds a '<'.
std::string remove_tags(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (true) {
    const size_t open = s.find('<', i);
    if (open == std::string_view::npos) break;
    const size_t close = s.find('>', open);
    if (close == std::string_view::npos) break;
    out.append(s.substr(i, open - i));
    i = close + 1;
  }
  out.append(s.substr(i));
  return out;
}

[[noreturn]] void throw_value(std::string message) { throw ValueError(ErrorKind::runtime, std::move(message)); }

int64_t int_arg(const CallArgs& a, size_t i, std::string_view name, int64_t fallback) {
  const Value* v = a.get(i, name);
  if (v == nullptr) return fallback;
  if (!v->is_int() && !v->is_bool()) throw_type(std::string("'") + v->type_name() + "' object cannot be interpreted as an integer");
  return v->as_int();
}

}  // namespace

void add_extra_filters(FilterTable& t) {
  t["truncate"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const std::string s = str_of(ev, v);
    const int64_t length = int_arg(a, 0, "length", 255);
    const Value* kill = a.get(1, "killwords");
    const Value* end_v = a.get(2, "end");
    const std::string end = end_v ? str_of(ev, *end_v) : "...";
    const int64_t leeway = int_arg(a, 3, "leeway", 5);
    const auto end_len = static_cast<int64_t>(text::count_code_points(end));
    if (length < end_len) throw_value("expected length >= " + std::to_string(end_len) + ", got " + std::to_string(length));
    if (leeway < 0) throw_value("expected leeway >= 0, got " + std::to_string(leeway));
    const std::vector<size_t> at = text::code_point_offsets(s);  // count + 1 offsets
    if (static_cast<int64_t>(at.size()) - 1 <= length + leeway) return Value(s);
    std::string head = s.substr(0, at[static_cast<size_t>(length - end_len)]);
    if (!(kill && kill->truthy())) {
      const size_t space = head.rfind(' ');
      if (space != std::string::npos) head.resize(space);  // rsplit(" ", 1)[0]
    }
    return ev.make_string(head + end);
  };
  t["urlencode"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    if (v.is_string() || (!v.is_list() && !v.is_dict())) return ev.make_string(url_quote(str_of(ev, v), false));
    std::string out;
    auto pair = [&](const Value& k, const Value& x) {
      if (!out.empty()) out += '&';
      out += url_quote(str_of(ev, k), true) + "=" + url_quote(str_of(ev, x), true);
    };
    if (v.is_dict()) {
      for (const auto& [k, x] : v.dict().items) pair(k, x);
    } else {
      for (const Value& item : v.list()) {
        if (!item.is_list() || item.list().size() != 2) throw_type("urlencode expects pairs");
        pair(item.list()[0], item.list()[1]);
      }
    }
    return ev.make_string(out);
  };
  t["xmlattr"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    if (!v.is_dict()) throw_type("xmlattr expects a mapping");
    const Value* autospace = a.get(0, "autospace");
    std::string out;
    for (const auto& [k, x] : v.dict().items) {
      if (x.is_none() || x.is_undefined()) continue;
      const std::string key = str_of(ev, k);
      if (key.find_first_of(" />=\t\n\f") != std::string::npos) throw_value("Invalid character in attribute name: " + repr(k));
      if (!out.empty()) out += ' ';
      out += text::html_escape(key) + "=\"" + text::html_escape(str_of(ev, x)) + "\"";
    }
    if (!out.empty() && (!autospace || autospace->truthy())) out = " " + out;
    return Value::markup(out);  // jinja2 returns Markup
  };
  t["wordwrap"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const std::string s = str_of(ev, v);
    const int64_t width = int_arg(a, 0, "width", 79);
    auto flag = [&](size_t i, std::string_view name) {
      const Value* f = a.get(i, name);
      return f == nullptr || f->truthy();
    };
    const bool break_long_words = flag(1, "break_long_words"), break_on_hyphens = flag(3, "break_on_hyphens");
    const Value* wrap_v = a.get(2, "wrapstring");
    const std::string wrapstring = wrap_v && !wrap_v->is_none() ? str_of(ev, *wrap_v) : "\n";
    // Each line of the text wrapped on its own (textwrap alone would ignore the line breaks).
    std::string out;
    bool first = true;
    for (std::string_view line : text::split_lines(s)) {
      if (width <= 0) throw_value("invalid width " + std::to_string(width) + " (must be > 0)");
      const size_t before = out.size();
      if (!first) out += wrapstring;
      first = false;
      const std::vector<std::string> wrapped = text::wrap(line, width, break_long_words, break_on_hyphens);
      for (size_t i = 0; i < wrapped.size(); ++i) {
        if (i > 0) out += wrapstring;
        out += wrapped[i];
      }
      ev.charge_bytes(out.size() - before);  // this line's output: the whole would be charged again per line
      if (out.size() > ev.max_bytes()) throw_budget("string too long");
    }
    return ev.make_string(out);
  };
  t["striptags"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    const std::string s = remove_tags(remove_comments(str_of(ev, v)));
    std::string collapsed;
    for (std::string_view word : text::split_whitespace(s)) {
      if (!collapsed.empty()) collapsed += ' ';
      collapsed += word;
    }
    return ev.make_string(text::html_unescape(collapsed));
  };
  t["batch"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const int64_t n = int_arg(a, 0, "linecount", 1);
    if (n <= 0) throw_value("batch size must be positive");
    const Value* fill = a.get(1, "fill_with");
    List out, current;
    for (Value& item : ev.iterate(v)) {
      if (static_cast<int64_t>(current.size()) == n) out.push_back(Value::make_list(std::move(current))), current = {};
      current.push_back(std::move(item));
    }
    if (!current.empty()) {
      if (fill && !fill->is_none()) {
        while (static_cast<int64_t>(current.size()) < n) current.push_back(*fill);
      }
      out.push_back(Value::make_list(std::move(current)));
    }
    return Value::generator(std::move(out));
  };
  t["slice"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const int64_t slices = int_arg(a, 0, "slices", 1);
    if (slices <= 0) throw_value("slices must be positive");
    const Value* fill = a.get(1, "fill_with");
    const List seq = ev.iterate(v);
    const auto length = static_cast<int64_t>(seq.size());
    const int64_t per = length / slices, extra = length % slices;
    int64_t offset = 0;
    List out;
    for (int64_t i = 0; i < slices; ++i) {
      const int64_t start = offset + i * per;
      if (i < extra) ++offset;
      const int64_t end = offset + (i + 1) * per;
      List part(seq.begin() + start, seq.begin() + end);
      if (fill && !fill->is_none() && i >= extra) part.push_back(*fill);
      out.push_back(Value::make_list(std::move(part)));
    }
    return Value::generator(std::move(out));
  };
}

}  // namespace owl::chat
