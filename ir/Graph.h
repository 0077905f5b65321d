// kiln's SSA graph IR: values, nodes and the graph that owns them.
//
// A Value is a typed SSA value with exactly one definition: a graph input, a constant, or a result
// of one node. A Node has an op kind from the op table, operands, results, typed attributes and an
// epilogue. The Graph owns both and keeps nodes in a valid execution order (every operand is
// defined before its use). Handles are plain pointers, stable for the graph's lifetime.
#pragma once

#include "ir/Attribute.h"
#include "ir/Epilogue.h"
#include "ir/Op.h"
#include "ir/Tensor.h"
#include "ir/Types.h"

#include <memory>
#include <string>
#include <vector>

namespace kiln {

class Node;

class Value {
public:
  enum class Def : uint8_t { Input, Constant, Result };

  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  const TensorType &type() const { return type_; }
  void setType(TensorType t) { type_ = std::move(t); }
  Def def() const { return def_; }
  bool isConstant() const { return def_ == Def::Constant; }
  bool isInput() const { return def_ == Def::Input; }
  /// The producing node (nullptr for inputs and constants) and which of its results this is.
  Node *producer() const { return producer_; }
  unsigned resultIndex() const { return resultIndex_; }
  /// Constant data (only for Def::Constant).
  const Tensor &constant() const { return constant_; }
  void setConstant(Tensor t) { constant_ = std::move(t); }

private:
  friend class Graph;
  std::string name_;
  TensorType type_;
  Def def_ = Def::Result;
  Node *producer_ = nullptr;
  unsigned resultIndex_ = 0;
  Tensor constant_;
};

class Node {
public:
  OpKind op() const { return op_; }
  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  const std::vector<Value *> &operands() const { return operands_; }
  Value *operand(unsigned i) const { return operands_[i]; }
  unsigned numOperands() const { return static_cast<unsigned>(operands_.size()); }
  void setOperand(unsigned i, Value *v) { operands_[i] = v; }
  void addOperand(Value *v) { operands_.push_back(v); }
  const std::vector<Value *> &results() const { return results_; }
  Value *result(unsigned i = 0) const { return results_[i]; }
  unsigned numResults() const { return static_cast<unsigned>(results_.size()); }
  Attributes &attrs() { return attrs_; }
  const Attributes &attrs() const { return attrs_; }
  Epilogue &epilogue() { return epilogue_; }
  const Epilogue &epilogue() const { return epilogue_; }
  /// True when operand i is read by an epilogue step (a fused bias, residual or binary operand,
  /// which fuse-epilogue appends) rather than by the op itself.
  bool isEpilogueOperand(unsigned i) const {
    for (const EpilogueStep &s : epilogue_.steps)
      if (s.readsOperand() && s.operand == static_cast<int>(i))
        return true;
    return false;
  }

private:
  friend class Graph;
  OpKind op_ = OpKind::Identity;
  std::string name_;
  std::vector<Value *> operands_;
  std::vector<Value *> results_;
  Attributes attrs_;
  Epilogue epilogue_;
};

class Graph {
public:
  Graph() = default;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }

  Value *addInput(std::string name, TensorType type);
  Value *addConstant(std::string name, Tensor data); // type: row-major, data's dtype and shape
  /// Appends a node at the end of the execution order with one result per entry of resultTypes,
  /// named by resultNames (same length).
  Node *addNode(OpKind op, std::string name, std::vector<Value *> operands,
                std::vector<TensorType> resultTypes, std::vector<std::string> resultNames,
                Attributes attrs = {});
  /// Same, inserting before `before` in the execution order.
  Node *insertNodeBefore(Node *before, OpKind op, std::string name, std::vector<Value *> operands,
                         std::vector<TensorType> resultTypes, std::vector<std::string> resultNames,
                         Attributes attrs = {});
  void setOutputs(std::vector<Value *> outs) { outputs_ = std::move(outs); }

  const std::vector<Value *> &inputs() const { return inputs_; }
  const std::vector<Value *> &outputs() const { return outputs_; }
  /// Constants in creation order.
  std::vector<Value *> constants() const;
  /// Nodes in execution order.
  std::vector<Node *> nodes() const;
  size_t numNodes() const { return nodes_.size(); }

  /// Every operand use of `from` (and graph outputs) now refers to `to`.
  void replaceAllUsesWith(Value *from, Value *to);
  /// Nodes that use v as an operand, in execution order.
  std::vector<Node *> users(const Value *v) const;
  bool isOutput(const Value *v) const;
  /// Removes a node; its results must have no users.
  void eraseNode(Node *n);
  /// Drops constants that no node and no output uses.
  void eraseUnusedConstants();
  /// A value name not used yet in this graph, derived from `base` ("base", "base.1", ...).
  std::string freshName(const std::string &base) const;
  /// Moves `n` to just before `before` in the execution order (caller keeps the order valid).
  void moveNodeBefore(Node *n, Node *before);

private:
  std::string name_;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Value *> inputs_, outputs_, constants_;
};

} // namespace kiln
