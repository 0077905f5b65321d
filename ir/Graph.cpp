// Graph construction and rewriting primitives.
#include "ir/Graph.h"

#include <algorithm>
#include <cassert>

namespace kiln {

Value *Graph::addInput(std::string name, TensorType type) {
  auto v = std::make_unique<Value>();
  v->name_ = std::move(name);
  v->type_ = std::move(type);
  v->def_ = Value::Def::Input;
  inputs_.push_back(v.get());
  values_.push_back(std::move(v));
  return values_.back().get();
}

Value *Graph::addConstant(std::string name, Tensor data) {
  auto v = std::make_unique<Value>();
  v->name_ = std::move(name);
  v->type_ = TensorType(data.dtype, data.shape);
  v->def_ = Value::Def::Constant;
  v->constant_ = std::move(data);
  constants_.push_back(v.get());
  values_.push_back(std::move(v));
  return values_.back().get();
}

Node *Graph::insertNodeBefore(Node *before, OpKind op, std::string name,
                              std::vector<Value *> operands, std::vector<TensorType> resultTypes,
                              std::vector<std::string> resultNames, Attributes attrs) {
  assert(resultTypes.size() == resultNames.size() && "one name per result");
  auto n = std::make_unique<Node>();
  n->op_ = op;
  n->name_ = std::move(name);
  n->operands_ = std::move(operands);
  n->attrs_ = std::move(attrs);
  for (size_t i = 0; i < resultTypes.size(); ++i) {
    auto v = std::make_unique<Value>();
    v->name_ = std::move(resultNames[i]);
    v->type_ = std::move(resultTypes[i]);
    v->def_ = Value::Def::Result;
    v->producer_ = n.get();
    v->resultIndex_ = static_cast<unsigned>(i);
    n->results_.push_back(v.get());
    values_.push_back(std::move(v));
  }
  Node *raw = n.get();
  auto pos = nodes_.end();
  if (before)
    pos = std::find_if(nodes_.begin(), nodes_.end(), [&](auto &p) { return p.get() == before; });
  nodes_.insert(pos, std::move(n));
  return raw;
}

Node *Graph::addNode(OpKind op, std::string name, std::vector<Value *> operands,
                     std::vector<TensorType> resultTypes, std::vector<std::string> resultNames,
                     Attributes attrs) {
  return insertNodeBefore(nullptr, op, std::move(name), std::move(operands),
                          std::move(resultTypes), std::move(resultNames), std::move(attrs));
}

std::vector<Value *> Graph::constants() const { return constants_; }

std::vector<Node *> Graph::nodes() const {
  std::vector<Node *> out;
  out.reserve(nodes_.size());
  for (auto &n : nodes_)
    out.push_back(n.get());
  return out;
}

void Graph::replaceAllUsesWith(Value *from, Value *to) {
  for (auto &n : nodes_)
    for (auto &o : n->operands_)
      if (o == from)
        o = to;
  for (auto &o : outputs_)
    if (o == from)
      o = to;
}

std::vector<Node *> Graph::users(const Value *v) const {
  std::vector<Node *> out;
  for (auto &n : nodes_)
    if (std::find(n->operands_.begin(), n->operands_.end(), v) != n->operands_.end())
      out.push_back(n.get());
  return out;
}

bool Graph::isOutput(const Value *v) const {
  return std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end();
}

void Graph::eraseNode(Node *node) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](auto &p) { return p.get() == node; });
  assert(it != nodes_.end() && "node not in graph");
  for (Value *r : node->results_)
    values_.erase(std::remove_if(values_.begin(), values_.end(),
                                 [&](auto &p) { return p.get() == r; }),
                  values_.end());
  nodes_.erase(it);
}

void Graph::eraseUnusedConstants() {
  std::vector<Value *> keep;
  for (Value *c : constants_)
    if (isOutput(c) || !users(c).empty())
      keep.push_back(c);
    else
      values_.erase(std::remove_if(values_.begin(), values_.end(),
                                   [&](auto &p) { return p.get() == c; }),
                    values_.end());
  constants_ = std::move(keep);
}

std::string Graph::freshName(const std::string &base) const {
  auto taken = [&](const std::string &n) {
    for (auto &v : values_)
      if (v->name_ == n)
        return true;
    return false;
  };
  if (!taken(base))
    return base;
  for (unsigned i = 1;; ++i) {
    std::string n = base + "." + std::to_string(i);
    if (!taken(n))
      return n;
  }
}

void Graph::moveNodeBefore(Node *n, Node *before) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](auto &p) { return p.get() == n; });
  assert(it != nodes_.end() && "node not in graph");
  std::unique_ptr<Node> owned = std::move(*it);
  nodes_.erase(it);
  auto pos = std::find_if(nodes_.begin(), nodes_.end(), [&](auto &p) { return p.get() == before; });
  nodes_.insert(pos, std::move(owned));
}

} // namespace kiln
