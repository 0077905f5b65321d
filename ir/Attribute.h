// Typed node attributes. Stored in an ordered map so that printing and emission never depend on
// hash order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace kiln {

using Attribute = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<double>, std::vector<std::string>>;

class Attributes {
public:
  bool has(const std::string &k) const { return map_.count(k) != 0; }
  void set(const std::string &k, Attribute v) { map_[k] = std::move(v); }
  void erase(const std::string &k) { map_.erase(k); }
  const Attribute *find(const std::string &k) const {
    auto it = map_.find(k);
    return it == map_.end() ? nullptr : &it->second;
  }
  /// Typed getters return the fallback when the attribute is absent (or of another type).
  int64_t getInt(const std::string &k, int64_t fallback = 0) const;
  double getFloat(const std::string &k, double fallback = 0) const;
  std::string getString(const std::string &k, const std::string &fallback = "") const;
  std::vector<int64_t> getInts(const std::string &k, std::vector<int64_t> fallback = {}) const;
  std::vector<double> getFloats(const std::string &k, std::vector<double> fallback = {}) const;

  const std::map<std::string, Attribute> &all() const { return map_; }
  bool operator==(const Attributes &o) const { return map_ == o.map_; }

private:
  std::map<std::string, Attribute> map_;
};

} // namespace kiln
