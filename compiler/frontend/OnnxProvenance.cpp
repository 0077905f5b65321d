// Which graph inputs each value of an ONNX graph is computed from. The importer uses it to name
// the input behind a shape-deciding operand that is not constant (and to suggest --bind for it),
// and listShapeInputs() to list those inputs without compiling. A Shape result depends on no
// input: kiln's inputs have static shapes, so Shape folds whatever its operand's data.
#include "compiler/frontend/OnnxImport.h"

namespace kiln {
namespace onnxfe {

std::map<std::string, std::set<std::string>>
inputProvenance(const onnx::GraphProto &g, const std::set<std::string> &inputs) {
  std::map<std::string, std::set<std::string>> deps;
  for (const std::string &in : inputs)
    deps[in] = {in};
  // Nodes are in topological order (checkStructure and the checker ran before).
  for (const onnx::NodeProto &n : g.node()) {
    if ((n.domain().empty() || n.domain() == "ai.onnx") && n.op_type() == "Shape")
      continue;
    std::set<std::string> from;
    for (const std::string &in : n.input())
      if (auto it = deps.find(in); it != deps.end())
        from.insert(it->second.begin(), it->second.end());
    if (from.empty())
      continue;
    for (const std::string &out : n.output())
      if (!out.empty())
        deps[out] = from;
  }
  return deps;
}

} // namespace onnxfe
} // namespace kiln
