// Port of the seed's first Queue and Pipe examples (jobs/python/queue_pipe_hello.py): a child
// sends [42, None, 'hello'] to its parent, once through a Queue and once through a Pipe.
//   mpirun -np 2 build/jobs/queue_pipe_hello
#include <iostream>
#include <mpp/mpp.hpp>
#include <optional>
#include <string>

/// Python's [42, None, 'hello']: a number, a missing value and a string.
struct Message {
  int number = 0;
  std::optional<int> nothing;
  std::string text;

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    bool present = nothing.has_value();
    int value = nothing.value_or(0);
    archive& number& present& value& text;
    nothing = present ? std::optional<int>(value) : std::nullopt;
  }
};

std::ostream& operator<<(std::ostream& out, const Message& m) {
  out << '[' << m.number << ", ";
  if (m.nothing) {
    out << *m.nothing;
  } else {
    out << "None";
  }
  return out << ", '" << m.text << "']";
}

void f(mpp::Queue<Message> q) { q.put({42, std::nullopt, "hello"}); }

void g(mpp::Connection<Message> conn) {
  conn.send({42, std::nullopt, "hello"});
  conn.close();
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  mpp::Queue<Message> q;
  mpp::Process p(f, q);
  p.start();
  std::cout << q.get() << std::endl;  // prints "[42, None, 'hello']"
  p.join();

  auto [parent_conn, child_conn] = mpp::Pipe<Message>();
  mpp::Process p2(g, child_conn);
  p2.start();
  std::cout << parent_conn.recv() << std::endl;  // prints "[42, None, 'hello']"
  p2.join();
}
