// Port of the seed's duplex Pipe examples (jobs/python/pipe_conversation.py): the parent talks
// with a child, then two children talk with each other directly, rank to rank (func1 sends i,
// func2 answers i*i). The two children run side by side, so this needs 2 workers (-np 3).
//   mpirun -np 3 build/jobs/pipe_conversation
#include <iostream>
#include <mpp/mpp.hpp>
#include <sstream>
#include <string>

/// Python's [f"message1 from {name}", 3.14] (or a bare string from main).
struct Message {
  std::string text;
  double number = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned) {
    archive& text& number;
  }
};

void say(const std::string& line) {
  std::cout << line << std::endl;  // one write per line, as Python's print(..., flush=True)
}

void func(mpp::Connection<Message> conn, std::string name) {
  say("This is " + name + ", receive > " + conn.recv().text);
  conn.send({"message1 from " + name, 3.14});
  conn.close();
}

void func1(mpp::Connection<long> pipe) {
  for (long i = 0; i < 5; ++i) {
    pipe.send(i);
    say("func1 receive: " + std::to_string(pipe.recv()));
  }
}

void func2(mpp::Connection<long> pipe) {
  for (long i = 0; i < 5; ++i) {
    pipe.send(i * i);
    say("func2 receive " + std::to_string(pipe.recv()));
  }
}

int main(int argc, char** argv) {
  mpp::Session session(argc, argv);
  if (session.workers() < 2) throw mpp::UsageError("func1 and func2 talk to each other, so they need 2 workers: -np 3");
  auto [conn_a, conn_b] = mpp::Pipe<Message>();  // the two ends of the pipe
  mpp::Process p1(func, conn_a, "p1");
  p1.start();
  conn_b.send({"message from main"});
  const Message reply = conn_b.recv();
  std::ostringstream line;
  line << "This is main, ['" << reply.text << "', " << reply.number << "]";
  say(line.str());
  p1.join();

  auto pipe = mpp::Pipe<long>();
  mpp::Process q1(func1, pipe.first);
  mpp::Process q2(func2, pipe.second);
  q1.start();
  q2.start();
  q1.join();
  q2.join();
}
