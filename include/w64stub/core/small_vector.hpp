// SmallVector: a vector that holds its first N elements in place and only more than N on the heap. It holds
// an instruction's operands (nearly every instruction has at most two): as a std::vector they cost an
// allocation where the instruction was made, another wherever it was copied (link copies every function's
// code), and a free at each end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

namespace w64stub {

template <class T, size_t N>
class SmallVector {
  static_assert(N > 0);

 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;
  using size_type = size_t;

  SmallVector() noexcept = default;
  SmallVector(std::initializer_list<T> items) { append(items.begin(), items.end()); }
  SmallVector(std::vector<T>&& items) {  // NOLINT: implicit, for builders that collect a std::vector
    reserve(items.size());
    for (T& item : items) emplace_back(std::move(item));
  }
  SmallVector(const SmallVector& other) { append(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      clear();
      append(other.begin(), other.end());
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  ~SmallVector() { release(); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool in_place() const { return data_ == in_place_data(); }  // not (or no longer) on the heap
  T* data() { return data_; }
  const T* data() const { return data_; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(size_t i) { return i < size_ ? data_[i] : out_of_range(); }
  const T& at(size_t i) const { return i < size_ ? data_[i] : out_of_range(); }
  T& front() { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& front() const { return data_[0]; }
  const T& back() const { return data_[size_ - 1]; }

  void reserve(size_t n) {
    if (n > capacity_) grow(n);
  }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) {  // made before growing: args may name an element that growing moves
      T item(std::forward<Args>(args)...);
      grow(2 * capacity_);
      return *new (data_ + size_++) T(std::move(item));
    }
    return *new (data_ + size_++) T(std::forward<Args>(args)...);
  }
  void push_back(const T& item) { emplace_back(item); }
  void push_back(T&& item) { emplace_back(std::move(item)); }
  void pop_back() { data_[--size_].~T(); }
  void clear() {
    std::destroy(begin(), end());
    size_ = 0;
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  T* in_place_data() { return reinterpret_cast<T*>(storage_); }
  const T* in_place_data() const { return reinterpret_cast<const T*>(storage_); }
  [[noreturn]] static T& out_of_range() { throw std::out_of_range("SmallVector::at"); }

  template <class It>
  void append(It first, It last) {
    reserve(size_ + static_cast<size_t>(last - first));
    for (; first != last; ++first) new (data_ + size_++) T(*first);
  }

  void grow(size_t n) {
    if (n > UINT32_MAX) throw std::length_error("SmallVector: too many elements");
    T* bigger = static_cast<T*>(::operator new(n * sizeof(T)));
    std::uninitialized_move(begin(), end(), bigger);
    std::destroy(begin(), end());
    if (!in_place()) ::operator delete(data_);
    data_ = bigger;
    capacity_ = static_cast<uint32_t>(n);
  }

  // Destroys the elements and frees the heap block; leaves this empty and in place.
  void release() {
    clear();
    if (!in_place()) ::operator delete(data_);
    data_ = in_place_data();
    capacity_ = N;
  }

  // From an empty, in-place this: other's elements (its heap block itself when it has one); other is left
  // empty and in place.
  void take(SmallVector& other) noexcept {
    if (!other.in_place()) {
      data_ = other.data_;
      size_ = other.size_;
      capacity_ = other.capacity_;
      other.data_ = other.in_place_data();
      other.size_ = 0;
      other.capacity_ = N;
      return;
    }
    std::uninitialized_move(other.begin(), other.end(), data_);
    size_ = other.size_;
    other.clear();
  }

  T* data_ = in_place_data();
  uint32_t size_ = 0;
  uint32_t capacity_ = N;
  alignas(T) unsigned char storage_[N * sizeof(T)];
};

}  // namespace w64stub
