// Memory report and SVG: see MemoryReport.h.
#include "codegen/MemoryReport.h"

#include <fmt/format.h>

#include <algorithm>

namespace kiln {
namespace {

std::string percentOf(int64_t v, int64_t bound) {
  if (bound == 0)
    return v == 0 ? "100.0%" : "n/a";
  return fmt::format("{:.1f}%", 100.0 * double(v) / double(bound));
}

std::string note(const MemoryPlanEntry &e) {
  if (e.kind == ArenaSlot::Kind::Scratch)
    return "scratch";
  switch (e.alias) {
  case ArenaSlot::Alias::View:
    return fmt::format("view of '{}'", e.aliasOf);
  case ArenaSlot::Alias::InPlace:
    return fmt::format("in place over '{}'", e.aliasOf);
  case ArenaSlot::Alias::Slice:
    return fmt::format("slice of '{}'", e.aliasOf);
  case ArenaSlot::Alias::None:
    break;
  }
  return "";
}

const char *svgClass(const MemoryPlanEntry &e) {
  if (e.kind == ArenaSlot::Kind::Scratch)
    return "scratch";
  switch (e.alias) {
  case ArenaSlot::Alias::View:
    return "view";
  case ArenaSlot::Alias::InPlace:
    return "inplace";
  case ArenaSlot::Alias::Slice:
    return "slice";
  case ArenaSlot::Alias::None:
    break;
  }
  return "tensor";
}

std::string xmlEscape(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c < 0x20 || c == 0x7f ? '?' : char(c); // control characters are not valid XML
    }
  }
  return out;
}

} // namespace

std::string formatMemoryReport(const MemoryPlan &plan, const std::string &modelName) {
  size_t nameWidth = 6;
  for (const MemoryPlanEntry &e : plan.entries)
    nameWidth = std::max(nameWidth, e.name.size());
  std::string out =
      fmt::format("memory plan of '{}': {} step(s), {} arena buffer(s), alignment {}\n", modelName,
                  plan.steps, plan.entries.size(), plan.alignment);
  out += fmt::format("{:<{}}  {:>12}  {:>5}  {:>5}  {:>12}  {}\n", "tensor", nameWidth, "bytes",
                     "first", "last", "offset", "note");
  for (const MemoryPlanEntry &e : plan.entries)
    out += fmt::format("{:<{}}  {:>12}  {:>5}  {:>5}  {:>12}  {}\n", e.name, nameWidth, e.bytes,
                       e.first, e.last, e.offset, note(e));
  out += fmt::format("arena: {} bytes, lower bound {} bytes ({} of the bound, strategy {})\n",
                     plan.arenaSize, plan.lowerBound, percentOf(plan.arenaSize, plan.lowerBound),
                     plan.strategy);
  out += fmt::format(
      "without aliasing (views, in place, Concat slices): arena {} bytes, lower bound {} bytes\n",
      plan.arenaSizeNoAlias, plan.lowerBoundNoAlias);
  out += fmt::format("views: {}, in place: {}, concats in place: {}\n", plan.views, plan.inPlace,
                     plan.concats);
  // What a planner-less runtime would hold: one buffer per intermediate tensor and per scratch.
  int64_t tensorBytes = 0, scratchBytes = 0, tensors = 0;
  for (const MemoryPlanEntry &e : plan.entries) {
    if (e.kind == ArenaSlot::Kind::Scratch) {
      scratchBytes += e.bytes;
    } else {
      tensorBytes += e.bytes;
      ++tensors;
    }
  }
  out += fmt::format("all intermediate tensors: {} bytes in {} tensors, plus {} bytes of kernel "
                     "scratch\n",
                     tensorBytes, tensors, scratchBytes);
  return out;
}

std::string formatMemorySvg(const MemoryPlan &plan, const std::string &modelName) {
  // Fixed drawing size; bytes scale to the arena's height.
  const int stepWidth = std::max(4, std::min(40, 1200 / std::max(1, plan.steps)));
  const int plotW = stepWidth * std::max(1, plan.steps), plotH = 600;
  const int left = 90, top = 40, bottom = 40, right = 20;
  const double scale = plan.arenaSize > 0 ? double(plotH) / double(plan.arenaSize) : 0.0;
  const int width = left + plotW + right, height = top + plotH + bottom;
  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                     "viewBox=\"0 0 {0} {1}\" font-family=\"monospace\" font-size=\"12\">\n",
                     width, height);
  out += fmt::format("<title>{}: arena {} bytes, lower bound {} bytes</title>\n",
                     xmlEscape(modelName), plan.arenaSize, plan.lowerBound);
  out += "<style>.tensor{fill:#4e79a7}.view{fill:#f28e2b}.inplace{fill:#59a14f}"
         ".scratch{fill:#e15759}.slice{fill:#b07aa1}"
         "rect.tensor,rect.view,rect.inplace,rect.scratch,rect.slice"
         "{fill-opacity:0.7;stroke:#222;stroke-width:0.5}</style>\n";
  out += fmt::format("<text x=\"{}\" y=\"20\">{}: arena {} bytes, lower bound {} bytes; x = step, "
                     "y = offset</text>\n",
                     left, xmlEscape(modelName), plan.arenaSize, plan.lowerBound);
  out += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                     "fill=\"none\" stroke=\"#888\"/>\n",
                     left, top, plotW, plotH);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>\n", left - 4, top + 10);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 4,
                     top + plotH, plan.arenaSize);
  out += fmt::format("<text x=\"{}\" y=\"{}\">step 0 .. {}</text>\n", left, top + plotH + 20,
                     std::max(0, plan.steps - 1));
  for (const MemoryPlanEntry &e : plan.entries) {
    double x = left + double(e.first) * stepWidth;
    double w = double(e.last - e.first + 1) * stepWidth;
    double y = top + double(e.offset) * scale;
    double h = std::max(1.0, double(e.bytes) * scale);
    std::string what = note(e);
    out += fmt::format("<rect class=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
                       "height=\"{:.1f}\"><title>{}: {} bytes at offset {}, steps {}-{}{}</title>"
                       "</rect>\n",
                       svgClass(e), x, y, w, h, xmlEscape(e.name), e.bytes, e.offset, e.first,
                       e.last, xmlEscape(what.empty() ? "" : ", " + what));
  }
  out += "</svg>\n";
  return out;
}

} // namespace kiln
