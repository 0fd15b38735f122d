/* placeholder for the pool suite */
int main(void) {
    return 0;
}
