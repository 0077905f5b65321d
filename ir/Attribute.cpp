// Typed attribute getters with fallbacks.
#include "ir/Attribute.h"

namespace kiln {

int64_t Attributes::getInt(const std::string &k, int64_t fallback) const {
  const Attribute *a = find(k);
  if (a && std::holds_alternative<int64_t>(*a))
    return std::get<int64_t>(*a);
  return fallback;
}
double Attributes::getFloat(const std::string &k, double fallback) const {
  const Attribute *a = find(k);
  if (a && std::holds_alternative<double>(*a))
    return std::get<double>(*a);
  if (a && std::holds_alternative<int64_t>(*a))
    return static_cast<double>(std::get<int64_t>(*a));
  return fallback;
}
std::string Attributes::getString(const std::string &k, const std::string &fallback) const {
  const Attribute *a = find(k);
  if (a && std::holds_alternative<std::string>(*a))
    return std::get<std::string>(*a);
  return fallback;
}
std::vector<int64_t> Attributes::getInts(const std::string &k, std::vector<int64_t> fallback) const {
  const Attribute *a = find(k);
  if (a && std::holds_alternative<std::vector<int64_t>>(*a))
    return std::get<std::vector<int64_t>>(*a);
  return fallback;
}
std::vector<double> Attributes::getFloats(const std::string &k, std::vector<double> fallback) const {
  const Attribute *a = find(k);
  if (a && std::holds_alternative<std::vector<double>>(*a))
    return std::get<std::vector<double>>(*a);
  return fallback;
}

} // namespace kiln
