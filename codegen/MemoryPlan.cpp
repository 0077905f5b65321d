// Buffer sharing and the arena plan: see MemoryPlan.h. Values that share bytes form groups; each
// group and each node's scratch is one ArenaBuffer for planArena, and an entry's offset is its
// group's offset plus where inside the group it sits (Split parts, Slice ranges, Concat slices).
#include "codegen/MemoryPlan.h"

#include "codegen/ArenaPlan.h"

#include <algorithm>
#include <set>

namespace kiln {

std::optional<ValueHome> MemoryPlan::homeOf(const Value *v) const {
  auto it = homes.find(v);
  if (it == homes.end())
    return std::nullopt;
  return it->second;
}

const MemoryPlanEntry *MemoryPlan::entryOf(const Value *v) const {
  auto it = homes.find(v);
  if (it == homes.end() || it->second.kind != ValueHome::Kind::Arena)
    return nullptr;
  return &entries[it->second.index];
}

std::optional<int64_t> MemoryPlan::arenaOffsetOf(const Value *v) const {
  if (const MemoryPlanEntry *e = entryOf(v))
    return e->offset;
  return std::nullopt;
}

namespace {

/// One attempt: the groups with or without Concat slices and Split / Slice views.
struct Attempt {
  MemoryPlan plan;
  ArenaPlan arena;
  int partViews = 0; // Split and Slice nodes that became views
};

Attempt attempt(const std::vector<Node *> &nodes, const std::vector<NodeSharing> &sharing,
                const MemoryPlan &boundary, const std::map<const Value *, int> &lastUse,
                int64_t alignment, bool sliceConcats, bool partViews) {
  Attempt a;
  MemoryPlan &p = a.plan;
  p.homes = boundary.homes;
  p.outputCopies = boundary.outputCopies;
  p.code.assign(nodes.size(), NodeCode::Kernel);
  p.scratchOffset.assign(nodes.size(), -1);
  auto isOutput = [&](const Value *v) {
    auto it = boundary.homes.find(v);
    return it != boundary.homes.end() && it->second.kind == ValueHome::Kind::Output;
  };
  auto lastOf = [&](const Value *r, int s) {
    auto it = lastUse.find(r);
    return it == lastUse.end() ? s : std::max(it->second, s);
  };

  std::vector<ArenaBuffer> buffers;         // one per group of shared bytes, and per scratch
  std::vector<std::vector<size_t>> members; // per buffer: its entries
  std::map<const Value *, size_t> bufferOf; // looked up only, never iterated
  std::map<const Value *, int64_t> within;  // byte offset inside its buffer
  std::vector<size_t> entryBuffer;
  std::vector<int64_t> entryWithin;
  std::vector<const Value *> entryValue;
  std::vector<size_t> scratchBuffer(nodes.size(), SIZE_MAX);
  auto offsetIn = [&](const Value *v) {
    auto it = within.find(v);
    return it == within.end() ? int64_t(0) : it->second;
  };
  // Every Concat operand must be a whole group of its own in the arena (not yet a slice, not
  // shared with another operand) to become a slice of the result.
  auto concatSlices = [&](const Node *n, const NodeSharing &f) {
    if (!sliceConcats || !f.concatSlices)
      return false;
    std::set<size_t> seen;
    for (const Value *x : n->operands()) {
      auto it = bufferOf.find(x);
      if (it == bufferOf.end() || !seen.insert(it->second).second || offsetIn(x) != 0 ||
          buffers[it->second].size != x->type().byteSize())
        return false;
    }
    return true;
  };
  // A Split's results are views into an arena operand (all of them, or none when one is a graph
  // output).
  auto splitParts = [&](const Node *n, const NodeSharing &f) {
    if (!partViews || !f.splitParts || !bufferOf.count(n->operand(0)))
      return false;
    for (const Value *r : n->results())
      if (isOutput(r))
        return false;
    return true;
  };

  for (size_t s = 0; s < nodes.size(); ++s) {
    const Node *n = nodes[s];
    const NodeSharing &f = sharing[s];
    const int step = int(s);
    if (splitParts(n, f)) {
      p.code[s] = NodeCode::SplitViews;
      ++p.views;
    }
    for (unsigned i = 0; i < n->numResults(); ++i) {
      const Value *r = n->result(i);
      if (isOutput(r))
        continue;
      MemoryPlanEntry e;
      e.name = r->name();
      e.bytes = r->type().byteSize();
      e.first = step;
      e.last = lastOf(r, step);
      size_t buf = SIZE_MAX;
      int64_t inside = 0;
      if (p.code[s] == NodeCode::SplitViews) {
        buf = bufferOf.at(n->operand(0));
        inside = offsetIn(n->operand(0)) + (*f.splitParts)[i];
        e.alias = ArenaSlot::Alias::View;
        e.aliasOf = n->operand(0)->name();
      } else if (i == 0 && concatSlices(n, f)) {
        // The result's buffer spans the operands' lifetimes; their groups move into it.
        const std::vector<int64_t> &slices = *f.concatSlices;
        buf = buffers.size();
        ArenaBuffer whole{e.bytes, e.first, e.last};
        members.emplace_back();
        for (unsigned o = 0; o < n->numOperands(); ++o) {
          size_t old = bufferOf.at(n->operand(o));
          whole.first = std::min(whole.first, buffers[old].first);
          whole.last = std::max(whole.last, buffers[old].last);
          for (size_t m : members[old]) {
            entryBuffer[m] = buf;
            entryWithin[m] += slices[o];
            bufferOf[entryValue[m]] = buf;
            within[entryValue[m]] = entryWithin[m];
            if (p.entries[m].alias == ArenaSlot::Alias::None) {
              p.entries[m].alias = ArenaSlot::Alias::Slice;
              p.entries[m].aliasOf = r->name();
            }
            members[buf].push_back(m);
          }
          members[old].clear();
          buffers[old].size = 0; // emptied: every member now lives in the result's buffer
        }
        buffers.push_back(whole);
        p.code[s] = NodeCode::ConcatDone;
        ++p.concats;
      } else if (i == 0 && partViews && f.sliceView && bufferOf.count(n->operand(0))) {
        buf = bufferOf.at(n->operand(0));
        inside = offsetIn(n->operand(0)) + *f.sliceView;
        e.alias = ArenaSlot::Alias::View;
        e.aliasOf = n->operand(0)->name();
        p.code[s] = NodeCode::View;
        ++p.views;
        ++a.partViews;
      } else if (i == 0 && f.resultIsOperandView) {
        auto it = bufferOf.find(n->operand(0));
        if (it != bufferOf.end()) {
          buf = it->second;
          inside = offsetIn(n->operand(0));
          e.alias = ArenaSlot::Alias::View;
          e.aliasOf = n->operand(0)->name();
          p.code[s] = NodeCode::View;
          ++p.views;
        }
      } else if (i == 0) {
        for (unsigned op : f.inPlaceOperands) {
          if (op >= n->numOperands())
            continue;
          const Value *x = n->operand(op);
          auto it = bufferOf.find(x);
          if (it == bufferOf.end() || buffers[it->second].last != step || !(x->type() == r->type()))
            continue;
          // Another operand reading the same bytes under another name could be clobbered.
          bool shared = false;
          for (const Value *o : n->operands()) {
            auto ot = bufferOf.find(o);
            shared |= o != x && ot != bufferOf.end() && ot->second == it->second;
          }
          if (shared)
            continue;
          buf = it->second;
          inside = offsetIn(x);
          e.alias = ArenaSlot::Alias::InPlace;
          e.aliasOf = x->name();
          ++p.inPlace;
          break;
        }
      }
      if (buf == SIZE_MAX) {
        buf = buffers.size();
        buffers.push_back({e.bytes, e.first, e.last});
        members.emplace_back();
      } else {
        buffers[buf].last = std::max(buffers[buf].last, e.last);
      }
      bufferOf[r] = buf;
      if (inside != 0)
        within[r] = inside;
      members[buf].push_back(p.entries.size());
      entryBuffer.push_back(buf);
      entryWithin.push_back(inside);
      entryValue.push_back(r);
      p.entries.push_back(std::move(e));
    }
    if (f.scratchBytes > 0) {
      MemoryPlanEntry e;
      e.kind = ArenaSlot::Kind::Scratch;
      e.name = n->name();
      e.bytes = f.scratchBytes;
      e.first = e.last = step;
      scratchBuffer[s] = buffers.size();
      members.push_back({p.entries.size()});
      entryBuffer.push_back(buffers.size());
      entryWithin.push_back(0);
      entryValue.push_back(nullptr);
      buffers.push_back({e.bytes, step, step});
      p.entries.push_back(std::move(e));
    }
  }
  a.arena = planArena(buffers, alignment);
  for (size_t i = 0; i < p.entries.size(); ++i) {
    p.entries[i].offset = a.arena.offsets[entryBuffer[i]] + entryWithin[i];
    if (entryValue[i])
      p.homes[entryValue[i]] = {ValueHome::Kind::Arena, i};
  }
  for (size_t s = 0; s < nodes.size(); ++s)
    if (scratchBuffer[s] != SIZE_MAX)
      p.scratchOffset[s] = a.arena.offsets[scratchBuffer[s]];
  return a;
}

} // namespace

MemoryPlan buildMemoryPlan(const Graph &g, const std::vector<NodeSharing> &sharing,
                           int64_t alignment) {
  const std::vector<Node *> nodes = g.nodes();
  // The caller's buffers. A node result that is a graph output is written straight into the
  // caller's buffer; a second listing of it, or an output that is an input or a constant, is
  // copied at the end.
  MemoryPlan boundary;
  for (size_t i = 0; i < g.inputs().size(); ++i)
    boundary.homes[g.inputs()[i]] = {ValueHome::Kind::Input, i};
  for (size_t j = 0; j < g.outputs().size(); ++j) {
    const Value *v = g.outputs()[j];
    if (v->def() == Value::Def::Result && !boundary.homes.count(v))
      boundary.homes[v] = {ValueHome::Kind::Output, j};
    else
      boundary.outputCopies.push_back({j, v});
  }

  std::map<const Value *, int> lastUse;
  for (size_t s = 0; s < nodes.size(); ++s)
    for (const Value *v : nodes[s]->operands())
      lastUse[v] = int(s);

  // The same graph with one buffer per intermediate, for the report.
  std::vector<ArenaBuffer> plain;
  for (size_t s = 0; s < nodes.size(); ++s) {
    for (const Value *r : nodes[s]->results())
      if (!boundary.homes.count(r)) {
        auto it = lastUse.find(r);
        plain.push_back({r->type().byteSize(), int(s),
                         it == lastUse.end() ? int(s) : std::max(it->second, int(s))});
      }
    plain.push_back({sharing[s].scratchBytes, int(s), int(s)});
  }
  ArenaPlan plainPlan = planArena(plain, alignment);

  // Concat slices and Split / Slice views extend groups over more steps, which can cost more than
  // the copy saves: when any was taken, the smallest arena of the four combinations wins
  // (variants in order of preference; ties keep the earlier, fewer copies).
  const bool variants[4][2] = {{true, true}, {true, false}, {false, true}, {false, false}};
  Attempt best = attempt(nodes, sharing, boundary, lastUse, alignment, true, true);
  bool splits = std::count(best.plan.code.begin(), best.plan.code.end(), NodeCode::SplitViews) > 0;
  if (best.plan.concats > 0 || best.partViews > 0 || splits) {
    for (int v = 1; v < 4; ++v) {
      Attempt other =
          attempt(nodes, sharing, boundary, lastUse, alignment, variants[v][0], variants[v][1]);
      if (other.arena.size < best.arena.size)
        best = std::move(other);
    }
  }
  MemoryPlan p = std::move(best.plan);
  p.steps = int(nodes.size());
  p.alignment = alignment;
  p.arenaSize = best.arena.size;
  p.lowerBound = best.arena.lowerBound;
  p.strategy = best.arena.strategy;
  p.arenaSizeNoAlias = plainPlan.size;
  p.lowerBoundNoAlias = plainPlan.lowerBound;
  return p;
}

ValueLayoutTable layoutTableOf(const MemoryPlan &plan) {
  ValueLayoutTable t;
  t.arenaSize = plan.arenaSize;
  t.lowerBound = plan.lowerBound;
  for (const MemoryPlanEntry &e : plan.entries)
    t.slots.push_back(static_cast<const ArenaSlot &>(e));
  return t;
}

} // namespace kiln
