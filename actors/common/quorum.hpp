#pragma once

// Quorum arithmetic, in one place for every role (model: etcd
// quorum/majority.go). With n = 2f+1 acceptors any two majorities intersect,
// which is what makes a chosen value unique.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cafchat {

/// Size of a majority of `n` voters: floor(n/2) + 1.
constexpr size_t majority(size_t n) {
  return n / 2 + 1;
}

/// Largest number of failures `n` voters tolerate: a majority must survive.
constexpr size_t max_failures(size_t n) {
  return n == 0 ? 0 : (n - 1) / 2;
}

/// Distinct voters for one decision. Counting a voter twice would let a
/// duplicated message fake a quorum, so `add` ignores repeats.
class vote_set {
public:
  explicit vote_set(size_t voters = 0) : needed_(majority(voters)) {}

  /// Records a vote; returns true if it was new.
  bool add(uint32_t voter) {
    if (std::find(ids_.begin(), ids_.end(), voter) != ids_.end())
      return false;
    ids_.push_back(voter);
    return true;
  }
  bool contains(uint32_t voter) const {
    return std::find(ids_.begin(), ids_.end(), voter) != ids_.end();
  }
  bool reached() const { return ids_.size() >= needed_; }
  size_t size() const { return ids_.size(); }
  size_t needed() const { return needed_; }
  void clear() { ids_.clear(); }

private:
  size_t needed_;
  std::vector<uint32_t> ids_;
};

} // namespace cafchat
